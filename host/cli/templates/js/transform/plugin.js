// __NAME__: a weft transform, in JavaScript.
//
// It sets one field on every record, from its config. Replace the body of
// `transform` with your own record processing; keep it pure: a transform
// has no network, and the same input must give the same output.

// The host validates the scheme's config against this before any call.
const CONFIG_SCHEMA = {
  type: "object",
  required: ["field", "value"],
  additionalProperties: false,
  properties: {
    field: { type: "string", description: "The field set on every record." },
    value: { description: "The value it gets." },
  },
};

export const transformApi = {
  describe() {
    return {
      name: "__NAME__",
      version: "0.1.0",
      title: "__TITLE__",
      description: "Sets one field on every record.",
      configSchema: JSON.stringify(CONFIG_SCHEMA),
    };
  },

  transform(config, records) {
    const { field, value } = JSON.parse(config);
    // `weft plugin transform` and schemes validate the config first; a
    // direct caller may not have.
    if (typeof field !== "string" || value === undefined) {
      throw { tag: "fatal", val: "config: 'field' and 'value' are required" };
    }
    const out = JSON.parse(records).map((record, i) => {
      if (record === null || typeof record !== "object" || Array.isArray(record)) {
        throw { tag: "invalid", val: `record ${i} is not a JSON object` };
      }
      return { ...record, [field]: value };
    });
    return JSON.stringify(out);
  },
};
