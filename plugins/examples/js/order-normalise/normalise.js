// order-normalise-js: amount normalisation and SKU re-mapping, in JavaScript.
//
// The same transform exists in Rust (plugins/examples/rust/order-normalise)
// and Python (plugins/examples/python/order-normalise); all three give the
// same output for the same input. Amounts are rounded on their decimal
// digits, not on binary floats, so the three agree to the last digit.
//
// Built with componentize-js against weft's `transform` world, with the
// `http` and `fetch-event` features disabled so the component imports only
// weft's interfaces and the WASI basics (clocks, random, stdio):
//
//   componentize-js --wit ../../../../wit --world-name transform \
//       --disable http fetch-event -o order_normalise_js.wasm normalise.js

import { emit } from "weft:plugin/log@0.1.0";

// Currency marks a storefront may put around an amount.
const CURRENCY = ["¥", "￥", "$", "CNY", "RMB"];
const DIGITS = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;

const CONFIG_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    lines: { type: "string", description: "The field holding each record's line items (default `lines`)." },
    sku: { type: "string", description: "The line field holding the SKU (default `sku`)." },
    amounts: {
      type: "array",
      items: { type: "string" },
      description: "Fields normalised to numbers, on the record and on each line (default `price`, `amount`, `total`).",
    },
    decimals: { type: "integer", minimum: 0, maximum: 6, description: "Decimal places kept, rounding half away from zero (default 2)." },
    sku_map: {
      type: "object",
      additionalProperties: { type: "string" },
      description: "SKUs replaced one for one; checked before `sku_prefix`.",
    },
    sku_prefix: {
      type: "object",
      required: ["from", "to"],
      additionalProperties: false,
      properties: { from: { type: "string" }, to: { type: "string" } },
      description: "A SKU starting with `from` gets `to` instead of that prefix.",
    },
    key: { type: "string", description: "The record field named in error messages (default `id`)." },
  },
};

// A failure the host acts on: componentize-js turns a thrown
// `ComponentError` payload into the `err` of the export's `result`.
class PluginError extends Error {
  constructor(tag, message) {
    super(message);
    this.payload = { tag, val: message };
  }
}

const isDigitOrPoint = (c) => (c >= "0" && c <= "9") || c === ".";

function stripCurrency(text) {
  for (;;) {
    // Every currency mark starts and ends with a non-digit, so text that
    // starts and ends with a digit has none left. This interpreter (no JIT
    // inside WebAssembly) pays for each string call: the common case
    // should make few.
    if (isDigitOrPoint(text.charAt(0)) && isDigitOrPoint(text.charAt(text.length - 1))) {
      return text;
    }
    text = text.trim();
    const head = CURRENCY.find((mark) => text.startsWith(mark));
    if (head !== undefined) {
      text = text.slice(head.length);
      continue;
    }
    const tail = CURRENCY.find((mark) => text.endsWith(mark));
    if (tail === undefined) return text;
    text = text.slice(0, text.length - tail.length);
  }
}

// '¥1,234.505' -> 1234.51 (decimals 2); null when `value` is not an amount.
export function parseAmount(value, decimals) {
  if (typeof value !== "number" && typeof value !== "string") return null;
  let text = stripCurrency(String(value));
  const negative = text.startsWith("-");
  if (negative) text = stripCurrency(text.slice(1));
  text = text.replaceAll(",", "");
  if (!DIGITS.test(text)) return null;
  const [whole, fraction = ""] = text.split(".");
  const kept = (fraction + "0".repeat(decimals)).slice(0, decimals);
  let units = Number((whole || "0") + kept);
  if (fraction.length > decimals && fraction[decimals] >= "5") units += 1;
  if (units === 0) return 0;
  const number = units / 10 ** decimals;
  return negative ? -number : number;
}

class Normaliser {
  constructor(config) {
    if (config === null || typeof config !== "object" || Array.isArray(config)) {
      throw new TypeError("must be a JSON object");
    }
    this.lines = config.lines ?? "lines";
    this.sku = config.sku ?? "sku";
    this.amounts = config.amounts ?? ["price", "amount", "total"];
    this.decimals = config.decimals ?? 2;
    this.skuMap = config.sku_map ?? {};
    this.prefixFrom = config.sku_prefix?.from;
    this.prefixTo = config.sku_prefix?.to ?? "";
    this.key = config.key ?? "id";
    this.remapped = 0;
  }

  name(index, record) {
    const key = record[this.key];
    return key === undefined || key === null
      ? `record ${index}`
      : `record ${index} (${this.key} ${JSON.stringify(key)})`;
  }

  remap(where, sku) {
    if (typeof sku !== "string") {
      throw new PluginError("invalid", `${where}: SKU ${JSON.stringify(sku)} is not text`);
    }
    if (Object.hasOwn(this.skuMap, sku)) {
      this.remapped += 1;
      return this.skuMap[sku];
    }
    if (this.prefixFrom !== undefined && sku.startsWith(this.prefixFrom)) {
      this.remapped += 1;
      return this.prefixTo + sku.slice(this.prefixFrom.length);
    }
    throw new PluginError(
      "invalid",
      `${where}: SKU '${sku}' has no mapping (not in sku_map, no sku_prefix match)`,
    );
  }

  fields(where, obj) {
    for (const field of this.amounts) {
      const value = obj[field];
      if (value === undefined || value === null) continue;
      const number = parseAmount(value, this.decimals);
      if (number === null) {
        throw new PluginError(
          "invalid",
          `${where}: field '${field}': ${JSON.stringify(value)} is not an amount`,
        );
      }
      obj[field] = number;
    }
  }

  record(index, record) {
    if (record === null || typeof record !== "object" || Array.isArray(record)) {
      throw new PluginError("invalid", `record ${index} is not a JSON object`);
    }
    const name = this.name(index, record);
    this.fields(name, record);
    const lines = record[this.lines];
    if (lines === undefined || lines === null) return record;
    if (!Array.isArray(lines)) {
      throw new PluginError("invalid", `${name}: field '${this.lines}' is not a list`);
    }
    lines.forEach((line, n) => {
      const where = `${name} line ${n}`;
      if (line === null || typeof line !== "object" || Array.isArray(line)) {
        throw new PluginError("invalid", `${where} is not a JSON object`);
      }
      this.fields(where, line);
      if (this.sku in line) line[this.sku] = this.remap(where, line[this.sku]);
    });
    return record;
  }
}

function parse(what, text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new PluginError("fatal", `${what} are not JSON: ${e.message}`);
  }
}

export const transformApi = {
  describe() {
    return {
      name: "order-normalise-js",
      version: "0.1.0",
      title: "Order normalisation (JavaScript)",
      description:
        "Turns amount text such as '¥1,234.50' into numbers and re-maps line SKUs to the target's material numbers.",
      configSchema: JSON.stringify(CONFIG_SCHEMA),
    };
  },

  transform(config, records) {
    let normaliser;
    try {
      normaliser = new Normaliser(parse("config", config));
    } catch (e) {
      if (e instanceof PluginError) throw e.payload;
      throw { tag: "fatal", val: `config: ${e.message}` };
    }
    const batch = parse("records", records);
    if (!Array.isArray(batch)) throw { tag: "fatal", val: "records are not a JSON array" };
    let out;
    try {
      out = batch.map((record, i) => normaliser.record(i, record));
    } catch (e) {
      if (e instanceof PluginError) throw e.payload;
      throw e;
    }
    if (normaliser.remapped > 0) {
      emit("debug", "re-mapped SKUs", [["lines", String(normaliser.remapped)]]);
    }
    return JSON.stringify(out);
  },
};
