// The contract's traffic suite: walks every operation of openapi.yaml (so a new operation is covered without
// touching this file), sends each one a valid request through a Prism proxy that validates requests and responses
// (PRISM_URL, `prism proxy --errors`), and invalid ones, derived from each parameter's and body property's schema,
// through a second proxy that forwards them (PRISM_LAX_URL, without --errors). It fails when Prism reports any
// violation of a response, when Prism finds a "valid" request invalid (the spec and this suite disagree), when
// Prism finds nothing wrong with an "invalid" one, or when the server accepts one.
//
// Environment: PRISM_URL, PRISM_LAX_URL, JUNCTION_SERVER_URL (the server itself, for /openapi.json), and
// optionally JUNCTION_ADMIN_EMAIL/JUNCTION_ADMIN_PASSWORD (an admin, for the admin operations) and
// STRIPE_WEBHOOK_SECRET (to sign a webhook delivery).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";

const strictURL = need("PRISM_URL");
const laxURL = need("PRISM_LAX_URL");
const serverURL = need("JUNCTION_SERVER_URL");
const password = "correct horse battery";

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set (make e2e sets it)`);
  return v;
}

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Violation = { location: string[]; severity: string; code?: string; message: string };
type Exchange = { status: number; headers: Headers; body: Json; violations: Violation[]; prismAnswered: boolean };
type Operation = { method: string; path: string; op: Json; params: Json[] };

let spec: Json;

/** Resolves local $refs ("#/components/..."), recursively, so that schemas can be walked. */
function deref(node: Json, seen = new Set<string>()): Json {
  if (Array.isArray(node)) return node.map((n) => deref(n, seen));
  if (!node || typeof node !== "object") return node;
  if (typeof node.$ref === "string") {
    if (seen.has(node.$ref)) return {};
    const target = node.$ref.slice(2).split("/").reduce((o: Json, k: string) => o[k.replace(/~1/g, "/").replace(/~0/g, "~")], spec);
    return deref(target, new Set([...seen, node.$ref]));
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) out[k] = deref(v, seen);
  return out;
}

async function send(base: string, method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<Exchange> {
  const res = await fetch(base + path, { method: method.toUpperCase(), headers: init.headers, body: init.body });
  const text = await res.text();
  let body: Json = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  const raw = res.headers.get("sl-violations");
  const violations: Violation[] = raw ? JSON.parse(raw) : [];
  const prismAnswered = (res.headers.get("content-type") ?? "").startsWith("application/problem+json") && typeof body?.type === "string" && body.type.includes("stoplight.io/prism");
  return { status: res.status, headers: res.headers, body, violations, prismAnswered };
}

// Fixtures made through the strict proxy, so that building them is traffic too.
type Actor = { id: string; email: string; token: string };
const fx: { a?: Actor; b?: Actor; admin?: string; post?: string; draft?: string; comment?: string; event?: string } = {};
let seq = 0;
const unique = (what: string) => `${what}-${Date.now()}-${++seq}@example.com`;

async function signUp(name: string): Promise<Actor> {
  const email = unique("contract");
  const r = await checked("post", "/api/users", json({ name, email, password }));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { id: r.body.data.id, email, token: await signIn(email, password) };
}

async function signIn(email: string, pw: string): Promise<string> {
  const r = await checked("post", "/api/auth/token", json({ email, password: pw }));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.accessToken;
}

const json = (body: Json, token?: string) => ({
  headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
});

/** A valid request through the strict proxy: Prism must forward it, and find nothing wrong with the answer. */
async function checked(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<Exchange> {
  const r = await send(strictURL, method, path, init);
  const where = `${method.toUpperCase()} ${path} (${init.body?.slice(0, 120) ?? "no body"})`;
  assert.ok(!r.prismAnswered, `${where}: Prism refused a request the suite holds valid: ${JSON.stringify(r.body)}`);
  assert.deepEqual(r.violations, [], `${where}: Prism reports violations`);
  assert.ok(r.status < 500, `${where}: ${r.status} ${JSON.stringify(r.body)}`);
  assert.ok(r.headers.get("x-request-id"), `${where}: no X-Request-Id`);
  return r;
}

function operations(): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<Json>(spec.paths)) {
    for (const method of ["get", "put", "post", "patch", "delete"]) {
      const op = item[method];
      if (!op) continue;
      const params = deref([...(item.parameters ?? []), ...(op.parameters ?? [])]);
      ops.push({ method, path, op, params });
    }
  }
  // Deletions last, so that what the others need still exists.
  return ops.sort((x, y) => Number(x.method === "delete") - Number(y.method === "delete"));
}

/** A value the schema accepts: its example, default or first enum value, else one built from its keywords. */
function validValue(schema: Json): Json {
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return true;
    case "array":
      return Array.from({ length: Math.max(schema.minItems ?? 1, 1) }, () => validValue(schema.items));
    case "object": {
      const o: Json = {};
      for (const [k, v] of Object.entries<Json>(schema.properties ?? {})) if ((schema.required ?? []).includes(k)) o[k] = validValue(v);
      return o;
    }
  }
  if (schema.format === "uuid") return randomUUID();
  if (schema.format === "email") return unique("value");
  return "x".repeat(Math.max(schema.minLength ?? 1, 1));
}

/** Values the schema refuses, each with what it breaks. */
function invalidValues(schema: Json, inQuery = false): { why: string; value: Json }[] {
  const out: { why: string; value: Json }[] = [];
  switch (schema.type) {
    case "string":
      if (!inQuery) out.push({ why: "a number for a string", value: 12345 }); // a query string has only strings
      if (schema.maxLength !== undefined) out.push({ why: "longer than maxLength", value: "x".repeat(schema.maxLength + 1) });
      // Prism takes an empty query value (name=) for an absent one, so "" is probed in bodies only.
      if (schema.minLength && !inQuery) out.push({ why: "shorter than minLength", value: "" });
      if (schema.enum) out.push({ why: "not in the enum", value: "not-a-member" });
      if (schema.format === "uuid") out.push({ why: "not a uuid", value: "0b0e6f55-8d5f-4a7c-9a4e-6a0c9e8e2a1" });
      if (schema.format === "email") out.push({ why: "not an ASCII email", value: "zoë@example.com" });
      if (schema.pattern) {
        // The first probe that ECMA-262 itself (this engine) says the pattern refuses.
        const re = new RegExp(schema.pattern, "u");
        const probe = ["\uFEFF", " ", "\u0000", "a\u0001b", "not an email"].find((p) => !re.test(p));
        if (probe !== undefined) out.push({ why: `does not match ${schema.pattern}`, value: probe });
      }
      break;
    case "integer":
      out.push({ why: "a string for an integer", value: "abc" });
      if (schema.minimum !== undefined) out.push({ why: "below minimum", value: schema.minimum - 1 });
      if (schema.maximum !== undefined) out.push({ why: "above maximum", value: schema.maximum + 1 });
      break;
    case "boolean":
      out.push({ why: "a string for a boolean", value: "TRUE" });
      break;
    case "array":
      if (schema.maxItems !== undefined) out.push({ why: "more than maxItems", value: Array.from({ length: schema.maxItems + 1 }, () => validValue(schema.items)) });
      for (const bad of invalidValues(schema.items, inQuery)) out.push({ why: `an item ${bad.why}`, value: [bad.value] });
      break;
  }
  return out;
}

/** Serializes a query parameter as its declaration says (style, explode): RFC 6570 form style is the default. */
function serializeQuery(param: Json, value: Json): string {
  const name = encodeURIComponent(param.name);
  const style = param.style ?? "form";
  const explode = param.explode ?? style === "form";
  assert.equal(style, "form", `${param.name}: the suite writes form style only`);
  if (Array.isArray(value)) {
    return explode
      ? value.map((v) => `${name}=${encodeURIComponent(String(v))}`).join("&")
      : `${name}=${value.map((v) => encodeURIComponent(String(v))).join(",")}`;
  }
  return `${name}=${encodeURIComponent(String(value))}`;
}

/** The ids and bodies a valid call needs, from the fixtures; deletions get a resource of their own. */
async function pathFor(o: Operation): Promise<string> {
  let id: string;
  if (o.path.startsWith("/api/users/") && o.method === "delete") {
    const u = await signUp("Deletes itself"); // users may delete only themselves
    deleteTokens.set(u.id, u.token);
    id = u.id;
  } else if (o.path.startsWith("/api/users/")) id = fx.a!.id;
  else if (o.path.startsWith("/api/posts/")) id = o.method === "delete" ? await newPost(true) : fx.post!;
  else if (o.path.startsWith("/api/comments/")) id = await newComment();
  else if (o.path.startsWith("/api/admin/webhook-events/")) id = fx.event ?? randomUUID();
  else id = randomUUID();
  return o.path.replace(/\{[^}]+\}/g, id);
}

function tokenFor(o: Operation, path: string): string | undefined {
  const schemes = (o.op.security ?? spec.security ?? []).flatMap((req: Json) => Object.keys(req));
  if (schemes.includes("adminAuth")) return fx.admin ?? fx.a!.token;
  if (schemes.includes("bearerAuth")) {
    // Deleting a user is their own business.
    return o.method === "delete" && o.path.startsWith("/api/users/") ? deleteTokens.get(path.split("/")[3]) : fx.a!.token;
  }
  return undefined;
}
const deleteTokens = new Map<string, string>();

/** The body of a valid call: the operation's example, made to fit the live data where it must. */
function bodyFor(o: Operation): Json {
  const content = deref(o.op.requestBody)?.content?.["application/json"];
  if (!content) return undefined;
  const body = structuredClone(content.example ?? validValue(content.schema));
  switch (o.op.operationId) {
    case "createUser":
    case "replaceUser":
    case "patchUser":
      if ("email" in body || o.op.operationId !== "patchUser") body.email = unique("body");
      // A new password would end the session the rest of the walk uses; a new email needs the current one.
      if (o.op.operationId !== "createUser") {
        delete body.password;
        body.currentPassword = password;
      }
      break;
    case "createToken":
      return { email: fx.a!.email, password };
    case "requestPasswordReset":
      return { email: fx.a!.email };
    case "receiveStripeWebhook":
      return { ...body, id: `evt_${randomUUID()}`, created: Math.floor(Date.now() / 1000) };
  }
  return body;
}

function headersFor(o: Operation, token: string | undefined, body: string | undefined): Record<string, string> {
  const h: Record<string, string> = {};
  if (body !== undefined) h["Content-Type"] = "application/json";
  if (token) h.Authorization = `Bearer ${token}`;
  const schemes = (o.op.security ?? []).flatMap((req: Json) => Object.keys(req));
  if (schemes.includes("stripeSignature") && body !== undefined) {
    const secret = process.env.STRIPE_WEBHOOK_SECRET ?? "whsec_unset";
    const t = Math.floor(Date.now() / 1000);
    h["Stripe-Signature"] = `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;
  }
  return h;
}

async function newPost(published: boolean): Promise<string> {
  const r = await checked("post", "/api/posts", json({ title: "Contract suite", content: "Walks the spec.", published }, fx.a!.token));
  assert.equal(r.status, 201);
  return r.body.data.id;
}

async function newComment(): Promise<string> {
  const r = await checked("post", `/api/posts/${fx.post}/comments`, json({ content: "A comment." }, fx.a!.token));
  assert.equal(r.status, 201);
  return r.body.data.id;
}

function validQuery(o: Operation): string[] {
  return o.params.filter((p: Json) => p.in === "query").map((p: Json) => {
    if (p.name === "ids") return serializeQuery(p, [fx.a!.id, fx.b!.id]);
    return serializeQuery(p, validValue(p.schema));
  });
}

test("the SDK's one query serializer fits every array parameter of the spec", async () => {
  spec ??= await (await fetch(serverURL + "/openapi.json")).json();
  for (const o of operations()) {
    for (const p of o.params.filter((p: Json) => p.in === "query" && p.schema?.type === "array")) {
      assert.equal(p.style ?? "form", "form", `${o.op.operationId} ${p.name}`);
      assert.equal(p.explode, false, `${o.op.operationId} ${p.name}: src/index.ts writes arrays unexploded`);
    }
  }
});

test("every operation, valid and invalid, through Prism", async () => {
  spec ??= await (await fetch(serverURL + "/openapi.json")).json();
  fx.a = await signUp("Contract A");
  fx.b = await signUp("Contract B");
  if (process.env.JUNCTION_ADMIN_EMAIL) fx.admin = await signIn(process.env.JUNCTION_ADMIN_EMAIL, process.env.JUNCTION_ADMIN_PASSWORD ?? password);
  fx.post = await newPost(true);
  fx.draft = await newPost(false);
  fx.comment = await newComment();
  if (process.env.STRIPE_WEBHOOK_SECRET && fx.admin) {
    const hook = operations().find((o) => o.op.operationId === "receiveStripeWebhook")!;
    const body = JSON.stringify(bodyFor(hook));
    const r = await checked("post", hook.path, { headers: headersFor(hook, undefined, body), body });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const list = await checked("get", "/api/admin/webhook-events?limit=1", { headers: { Authorization: `Bearer ${fx.admin}` } });
    fx.event = list.body.data[0]?.id;
  }

  let valid = 0;
  let invalid = 0;
  const statuses = new Map<string, number>();
  for (const o of operations()) {
    const name = o.op.operationId;
    // One valid call with every parameter.
    const path = await pathFor(o);
    const token = tokenFor(o, path);
    const bodyValue = bodyFor(o);
    const body = bodyValue === undefined ? undefined : JSON.stringify(bodyValue);
    const query = validQuery(o).join("&");
    const r = await checked(o.method, path + (query ? `?${query}` : ""), { headers: headersFor(o, token, body), body });
    statuses.set(name, r.status);
    valid++;
    if ((name === "replaceUser" || name === "patchUser") && r.status === 200) fx.a!.email = r.body.data.email;

    // Invalid calls: each parameter and each body property broken one way at a time, all else valid.
    const variants: { why: string; path: string; body?: string; headers: Record<string, string> }[] = [];
    for (const p of o.params) {
      for (const bad of invalidValues(p.schema, p.in !== "body")) {
        if (p.in === "path") {
          if (typeof bad.value !== "string" || bad.value === "") continue;
          variants.push({ why: `${p.name}: ${bad.why}`, path: o.path.replace(`{${p.name}}`, encodeURIComponent(bad.value)), body, headers: headersFor(o, token, body) });
        } else if (p.in === "query") {
          const others = o.params.filter((q: Json) => q.in === "query" && q.name !== p.name).map((q: Json) => validQuery({ ...o, params: [q] })[0]);
          variants.push({ why: `${p.name}: ${bad.why}`, path: `${path}?${[...others, serializeQuery(p, bad.value)].join("&")}`, body, headers: headersFor(o, token, body) });
        }
      }
    }
    const schema = deref(o.op.requestBody)?.content?.["application/json"]?.schema;
    if (schema?.type === "object" && bodyValue !== undefined) {
      const variant = (why: string, v: Json) => {
        const b = JSON.stringify(v);
        variants.push({ why: `body: ${why}`, path, body: b, headers: headersFor(o, token, b) });
      };
      for (const [prop, ps] of Object.entries<Json>(schema.properties ?? {})) {
        for (const bad of invalidValues(ps)) variant(`${prop} ${bad.why}`, { ...bodyValue, [prop]: bad.value });
        if ((schema.required ?? []).includes(prop)) {
          const { [prop]: _, ...rest } = bodyValue;
          variant(`without ${prop}`, rest);
        }
      }
      if (schema.additionalProperties === false) variant("an unknown property", { ...bodyValue, zzUnknown: 1 });
      if (schema.minProperties) variant("no properties", {});
    }
    const anonymousToo = (o.op.security ?? spec.security ?? []).some((req: Json) => Object.keys(req).length === 0);
    if (token && !anonymousToo) variants.push({ why: "no credentials", path, body, headers: headersFor(o, undefined, body) });

    for (const v of variants) {
      const r = await send(laxURL, o.method, v.path, { headers: v.headers, body: v.body });
      const where = `${name}, ${v.why}: ${o.method.toUpperCase()} ${v.path.slice(0, 160)}`;
      const request = r.violations.filter((x) => x.location[0] === "request");
      const response = r.violations.filter((x) => x.location[0] !== "request");
      assert.deepEqual(response, [], `${where}: Prism finds the response wrong (status ${r.status})`);
      assert.ok(request.length > 0, `${where}: Prism finds nothing wrong with this request (status ${r.status})`);
      assert.ok(r.status >= 400 && r.status < 500, `${where}: answered ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
      invalid++;
    }
  }
  for (const o of operations()) assert.ok(statuses.has(o.op.operationId), `${o.op.operationId} was not called`);
  console.log(`contract traffic: ${valid} valid and ${invalid} invalid requests over ${statuses.size} operations;`, Object.fromEntries(statuses));
});
