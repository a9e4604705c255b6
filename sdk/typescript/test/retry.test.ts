// The SDK's retries: what is retried, with which key, how long; and, against the live server (JUNCTION_URL)
// through a proxy that drops answers after the server made them, that a retried write is one write.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createJunctionClient, idempotencyKeyHeader, retryingFetch, uuidV7 } from "../src/index.js";

const baseUrl = process.env.JUNCTION_URL ?? "http://localhost:8080";

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close: () => void }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

test("what is retried, with one key, and for how long", async (t) => {
  const cases: { name: string; method: string; path: string; answers: [number, string?][]; tries: number; status: number; key?: string }[] = [
    { name: "a GET through 503s", method: "GET", path: "/api/posts", answers: [[503], [503], [200]], tries: 3, status: 200 },
    { name: "at most three tries", method: "DELETE", path: "/api/posts/x", answers: [[503], [503], [503], [200]], tries: 3, status: 503 },
    { name: "a 500 is the answer", method: "GET", path: "/api/posts", answers: [[500], [200]], tries: 1, status: 500 },
    { name: "a running key's 409", method: "POST", path: "/api/posts", answers: [[409, "0"], [201]], tries: 2, status: 201 },
    { name: "a 409 without Retry-After is the answer", method: "POST", path: "/api/users", answers: [[409], [201]], tries: 1, status: 409 },
    { name: "a POST the contract gives no key", method: "POST", path: "/api/auth/token", answers: [[503], [200]], tries: 1, status: 503 },
    { name: "a GraphQL mutation with the caller's key", method: "POST", path: "/graphql", answers: [[503], [200]], tries: 2, status: 200, key: "mutation-1" },
    { name: "Retry-After past the deadline", method: "GET", path: "/api/posts", answers: [[429, "60"], [200]], tries: 1, status: 429 },
  ];
  for (const c of cases) {
    await t.test(c.name, async () => {
      const keys: (string | undefined)[] = [];
      const server = await listen((req, res) => {
        const [status, after] = c.answers[Math.min(keys.length, c.answers.length - 1)];
        keys.push(req.headers[idempotencyKeyHeader.toLowerCase()] as string | undefined);
        if (after !== undefined) res.setHeader("Retry-After", after);
        res.writeHead(status).end();
      });
      try {
        const send = retryingFetch({ baseDelayMs: 1, deadlineMs: 10_000 });
        const headers = c.key ? { [idempotencyKeyHeader]: c.key } : undefined;
        const response = await send(new Request(server.url + c.path, { method: c.method, headers, body: c.method === "GET" ? undefined : "{}" }));
        assert.equal(response.status, c.status);
        assert.equal(keys.length, c.tries);
        if (c.method === "POST" && c.tries > 1) {
          assert.ok(keys[0], "a key the SDK chose");
          if (!c.key) assert.match(keys[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, "a UUIDv7");
          assert.ok(keys.every((k) => k === keys[0]), "the same key on every try");
          if (c.key) assert.equal(keys[0], c.key, "the caller's key");
        }
      } finally {
        server.close();
      }
    });
  }
});

test("a UUIDv7 leads with its time in milliseconds", () => {
  const key = uuidV7(0x01932c07a5e4);
  assert.match(key, /^01932c07-a5e4-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(uuidV7(0x01932c07a5e4), key, "random after its time");
  assert.ok(uuidV7(Date.now() + 10) > uuidV7(Date.now() - 10), "later keys sort later");
});

test("a write whose answer is lost is retried into its first answer, once", async () => {
  // The proxy forwards each request whole and reads the server's answer, then, while drops remain, closes the
  // client's connection instead of answering: the write committed, and the client saw a broken connection.
  let drops = 0;
  const proxy = await listen(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && k !== "host" && k !== "connection") headers.set(k, v);
    const upstream = await fetch(baseUrl + req.url, {
      method: req.method,
      headers,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    if (drops > 0) {
      drops--;
      req.socket.destroy();
      return;
    }
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (k !== "content-encoding" && k !== "transfer-encoding" && k !== "connection") out[k] = v;
    });
    res.writeHead(upstream.status, out).end(body);
  });
  try {
    let token: string | undefined;
    const api = createJunctionClient(proxy.url, () => token, { retry: { baseDelayMs: 1 } });
    const email = `retry-${Date.now()}-${Math.random().toString(16).slice(2)}@example.com`;
    drops = 1;
    const signUp = await api.POST("/api/users", { body: { name: "Retried", email, password: "correct horse battery" } });
    assert.equal(signUp.response.status, 201);
    assert.equal(signUp.response.headers.get("Idempotent-Replayed"), "true", "the first answer, replayed");
    const login = await api.POST("/api/auth/token", { body: { email, password: "correct horse battery" } });
    token = login.data?.accessToken;
    assert.ok(token);

    const title = `Once ${Math.random().toString(16).slice(2)}`;
    drops = 2;
    const created = await api.POST("/api/posts", { body: { title, content: "Only once.", published: false } });
    assert.equal(created.response.status, 201);
    const mine = await api.GET("/api/users/{id}/posts", { params: { path: { id: signUp.data!.data.id }, query: { limit: 100 } } });
    assert.equal(mine.data?.data.filter((p) => p.title === title).length, 1, "one post for three tries");
  } finally {
    proxy.close();
  }
});
