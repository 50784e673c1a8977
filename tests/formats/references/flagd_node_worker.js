// Evaluate flagd documents with the real @openfeature/flagd-core (npm), over stdin and stdout.
//
// Same protocol as flagd_python_worker.py: one JSON request per input line,
// {"document": ..., "cases": [{"flag", "type", "default", "targetingKey",
// "attributes"}]}, one JSON answer per output line, {"results": [[value,
// variant, reason, errorCode], ...]} or {"error": "..."}. The package is found
// through NODE_PATH (the test installs it in a cache directory).
"use strict";

const readline = require("node:readline");
const { FlagdCore } = require("@openfeature/flagd-core");

const RESOLVERS = {
  boolean: "resolveBooleanEvaluation",
  string: "resolveStringEvaluation",
  integer: "resolveNumberEvaluation",
  float: "resolveNumberEvaluation",
  object: "resolveObjectEvaluation",
};

const quiet = { error() {}, warn() {}, info() {}, debug() {} };

function answer(request) {
  const core = new FlagdCore(undefined, quiet);
  core.setConfigurations(JSON.stringify(request.document));
  return request.cases.map((c) => {
    const context = { ...c.attributes };
    if (c.targetingKey !== null) {
      context.targetingKey = c.targetingKey;
    }
    try {
      const r = core[RESOLVERS[c.type]](c.flag, c.default, context, quiet);
      return [r.value, r.variant === undefined ? null : r.variant, r.reason, r.errorCode ?? null];
    } catch (e) {
      // The OpenFeature SDK turns a thrown evaluation error into the default with ERROR.
      return [c.default, null, "ERROR", e.code ?? "GENERAL"];
    }
  });
}

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  let reply;
  try {
    reply = { results: answer(JSON.parse(line)) };
  } catch (e) {
    reply = { error: `${e.name}: ${e.message}` };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
