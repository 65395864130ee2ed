// Lints docs/openapi.yaml (OpenAPI 3.1 schema) and, given a JSON-lines file of
// responses recorded by tests/integration/api_http.sh, checks each body against the
// schema the document gives for its path, method and status. Exit 1 on any mismatch,
// and when fewer than MIN responses (default 1) were checked: a missing or empty
// recording checks nothing and must not pass.
//   node openapi_check.mjs SPEC [RESPONSES.jsonl [MIN]]
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import YAML from "yaml";

const [specPath, recordPath, minArg] = process.argv.slice(2);
const min = minArg === undefined ? 1 : Number(minArg);
if (!Number.isInteger(min) || min < 1) {
  console.error(`openapi: MIN must be a whole number of at least 1, not "${minArg}"`);
  process.exit(2);
}
const spec = YAML.parse(readFileSync(specPath, "utf8"));
const lint = await new Validator().validate(spec);
if (!lint.valid) {
  console.error("openapi: invalid document:", JSON.stringify(lint.errors, null, 2));
  process.exit(1);
}
console.log(`openapi: ${specPath} is a valid OpenAPI ${spec.openapi} document`);
if (!recordPath) process.exit(0);

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const resolve = (o) => (o && o.$ref ? resolve(o.$ref.split("/").slice(1).reduce((a, k) => a[k], spec)) : o);
const templates = Object.keys(spec.paths);
const templateOf = (path) => {
  const p = path.split("?")[0];
  return templates.find((t) => new RegExp("^" + t.replace(/\{[^}]+\}/g, "[^/]+") + "$").test(p));
};
let checked = 0, bad = 0;
let recorded = "";
try {
  recorded = readFileSync(recordPath, "utf8");
} catch (e) {
  console.error(`openapi: cannot read the recorded responses ${recordPath}: ${e.message}`);
  process.exit(1);
}
for (const line of recorded.split("\n").filter(Boolean)) {
  const r = JSON.parse(line);
  const t = templateOf(r.path);
  const op = t && spec.paths[t][r.method.toLowerCase()];
  if (!op) continue; // unknown paths and methods: their 404/405 are not documented operations
  const resp = resolve(op.responses[String(r.status)]);
  if (!resp) {
    console.error(`openapi: ${r.method} ${r.path} answered ${r.status}, which the document does not list`);
    bad++;
    continue;
  }
  const schema = resp.content?.["application/json"]?.schema;
  if (!schema) continue;
  const validate = ajv.compile({ ...schema, components: spec.components });
  const body = r.body;
  if (!validate(body)) {
    console.error(`openapi: ${r.method} ${r.path} ${r.status}: ${ajv.errorsText(validate.errors)}\n  ${JSON.stringify(r.body)}`);
    bad++;
  }
  checked++;
}
console.log(`openapi: ${checked} responses checked, ${bad} not matching the document`);
if (checked < min) {
  console.error(`openapi: only ${checked} responses checked, at least ${min} expected (were the API tests' responses recorded?)`);
  process.exit(1);
}
process.exit(bad ? 1 : 0);
