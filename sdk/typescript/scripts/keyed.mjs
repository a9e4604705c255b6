// Writes src/keyed.gen.ts from openapi.yaml: the operations that take an Idempotency-Key, which the SDK's
// retries may send again (with the key). Read from the contract, as the Go SDK (sdk/go/retry) reads it.
import { readFileSync, writeFileSync } from "node:fs";
import yaml from "js-yaml";

const doc = yaml.load(readFileSync(new URL("../../../openapi.yaml", import.meta.url), "utf8"));
const shared = doc.components?.parameters ?? {};
const resolve = (p) => (p.$ref ? shared[p.$ref.split("/").pop()] : p);
const keyed = [];
for (const [path, item] of Object.entries(doc.paths)) {
  for (const method of ["get", "put", "post", "delete", "patch"]) {
    const op = item[method];
    if (!op) continue;
    const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map(resolve);
    if (params.some((p) => p?.in === "header" && p.name.toLowerCase() === "idempotency-key")) {
      keyed.push([method.toUpperCase(), path]);
    }
  }
}
keyed.sort((a, b) => (a[1] + a[0]).localeCompare(b[1] + b[0]));
const lines = keyed.map(([m, p]) => `  ["${m}", "${p}"],`).join("\n");
writeFileSync(
  new URL("../src/keyed.gen.ts", import.meta.url),
  `// Generated from openapi.yaml by scripts/keyed.mjs (npm run generate): do not edit.\n` +
    `// The operations that take an Idempotency-Key: the POST and PATCH requests the SDK may retry.\n` +
    `export const keyedOperations: ReadonlyArray<readonly [string, string]> = [\n${lines}\n];\n`,
);
