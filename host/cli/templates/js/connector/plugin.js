// __NAME__: a weft connector, in JavaScript.
//
// It reads orders from a plain JSON storefront API (`GET /shop/v1/orders`
// with a bearer token, paged by page number), the API weft's simulators
// serve for plugin authors. Replace the request building and the reply
// parsing with your system's; keep the shape: describe, check, read.

import { send } from "weft:plugin/http@0.1.0";
import { emit } from "weft:plugin/log@0.1.0";

const ORDERS_PARAMS = {
  type: "object",
  properties: {
    updated_from: { type: "string", description: "Orders updated at or after this time (yyyy-MM-dd HH:mm:ss)." },
    updated_to: { type: "string", description: "Orders updated at or before this time (yyyy-MM-dd HH:mm:ss)." },
    page_size: { type: "integer", minimum: 1, maximum: 100, description: "Orders per page (default 50)." },
  },
};

// A failure the host acts on: a WIT `plugin-error`, thrown as the `err` of
// the export's `result`.
const fail = (tag, val) => {
  throw { tag, val };
};

function get(ctx, path, query) {
  const config = JSON.parse(ctx.config);
  const url = `${config.base_url.replace(/\/+$/, "")}${path}?${new URLSearchParams(query)}`;
  let response;
  try {
    response = send({
      method: "get",
      url,
      headers: [
        ["accept", "application/json"],
        ["authorization", `Bearer ${config.token}`],
      ],
      body: undefined,
      timeoutMs: undefined,
    });
  } catch (e) {
    // An `http-error`: refused by the sandbox or malformed cannot be
    // retried; connection failures and timeouts can.
    const error = e.payload ?? e;
    const retry = error.tag === "connect" || error.tag === "timeout";
    fail(retry ? "transient" : "fatal", `GET ${path}: ${error.tag}: ${error.val}`);
  }
  const text = `HTTP ${response.status}: ${new TextDecoder().decode(response.body.slice(0, 200))}`;
  if (response.status === 401 || response.status === 403) fail("auth", text);
  if (response.status === 429) fail("rate-limited", { retryAfterMs: undefined, message: text });
  if (response.status >= 500) fail("transient", text);
  if (response.status >= 300) fail("invalid", text);
  return JSON.parse(new TextDecoder().decode(response.body));
}

export const connectorApi = {
  describe() {
    return {
      name: "__NAME__",
      version: "0.1.0",
      title: "__TITLE__",
      description: "Orders of a plain JSON storefront API.",
      connectionFields: [
        { name: "base_url", title: "Base URL", description: "The API's origin.", kind: "url", required: true, secret: false, defaultValue: undefined },
        { name: "token", title: "API token", description: "The bearer token.", kind: "text", required: true, secret: true, defaultValue: undefined },
      ],
      egress: [{ tag: "base-url" }],
      operations: [
        {
          id: "orders",
          title: "Orders",
          description: "Orders by update time, with their lines.",
          direction: "source",
          paramsSchema: JSON.stringify(ORDERS_PARAMS),
          keyPointer: "/id",
          maxWindowSecs: BigInt(31 * 86_400),
          windowParams: ["updated_from", "updated_to"],
          maxBatch: undefined,
        },
      ],
    };
  },

  check(ctx) {
    get(ctx, "/shop/v1/orders", { per_page: "1" });
  },

  read(ctx, operation, params, cursor) {
    if (operation !== "orders") fail("fatal", `unknown operation '${operation}'`);
    const p = JSON.parse(params);
    const page = cursor ? Number(cursor) : 1;
    const perPage = Math.max(1, Math.min(p.page_size ?? 50, 100));
    const query = { page: String(page), per_page: String(perPage) };
    for (const name of ["updated_from", "updated_to"]) if (p[name]) query[name] = p[name];
    const body = get(ctx, "/shop/v1/orders", query);
    emit("debug", "read a page", [["page", String(page)]]);
    const more = page * perPage < body.total;
    return { records: JSON.stringify(body.orders), next: more ? String(page + 1) : undefined, total: BigInt(body.total) };
  },

  write(ctx, operation) {
    fail("fatal", `operation '${operation}' is not a target of this connector`);
  },

  webhook(ctx, operation) {
    fail("fatal", `operation '${operation}' is not a webhook of this connector`);
  },
};
