// Runs against a live server: JUNCTION_URL (default http://localhost:8080), and JUNCTION_INVALID_URL (default the
// same) for requests that are invalid on purpose.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createJunctionClient, etagOf, type ApiError, type Post } from "../src/index.js";

const baseUrl = process.env.JUNCTION_URL ?? "http://localhost:8080";

test("sign up, sign in, write and publish a post, page through posts, read a typed error", async () => {
  let token: string | undefined;
  const api = createJunctionClient(baseUrl, () => token);
  const email = `ts-${Date.now()}-${Math.random().toString(16).slice(2)}@example.com`;

  const signUp = await api.POST("/api/users", { body: { name: "TypeScript SDK", email, password: "correct horse battery" } });
  assert.equal(signUp.response.status, 201);
  assert.equal(signUp.data?.data.email, email);

  const login = await api.POST("/api/auth/token", { body: { email, password: "correct horse battery" } });
  assert.equal(login.data?.tokenType, "Bearer");
  token = login.data?.accessToken;

  const created = await api.POST("/api/posts", { body: { title: "From the TypeScript SDK", content: "Typed end to end." } });
  assert.equal(created.response.status, 201);
  const post: Post | undefined = created.data?.data;
  assert.ok(post && !post.published);

  const published = await api.POST("/api/posts/{id}/publish", { params: { path: { id: post.id } } });
  assert.equal(published.data?.data.published, true);

  // Page through the author's posts one at a time, following the links.
  for (let i = 0; i < 2; i++) {
    await api.POST("/api/posts", { body: { title: `Page filler ${i}`, content: "x", published: true } });
  }
  const seen: string[] = [];
  const authorPosts = (page: number) =>
    api.GET("/api/users/{id}/posts", { params: { path: { id: post.authorId }, query: { limit: 1, page } } });
  for (let page = 1; ; page++) {
    const { data, response } = await authorPosts(page);
    assert.equal(response.status, 200);
    const posts: Post[] = data?.data ?? [];
    seen.push(...posts.map((p) => p.id));
    if (!data?.links.next) break;
  }
  assert.equal(seen.length, 3);
  assert.ok(seen.includes(post.id));

  // A 4xx comes back typed as the error envelope. An invalid request goes to JUNCTION_INVALID_URL when set: make e2e
  // points it at a Prism proxy that forwards invalid requests (the one at JUNCTION_URL answers them itself).
  const lax = createJunctionClient(process.env.JUNCTION_INVALID_URL ?? baseUrl, () => token);
  const bad = await lax.POST("/api/posts", { body: { title: "", content: "x" } });
  assert.equal(bad.response.status, 400);
  const err: ApiError | undefined = bad.error;
  assert.equal(err?.statusCode, 400);
  assert.ok(err?.errors?.title);
});

test("batch lookup: ids with several values, serialized as the spec says, and links.self followed as it is", async () => {
  let token: string | undefined;
  const api = createJunctionClient(baseUrl, () => token);
  const ids: string[] = [];
  for (const who of ["a", "b", "c"]) {
    const email = `ts-ids-${who}-${Date.now()}-${Math.random().toString(16).slice(2)}@example.com`;
    const signUp = await api.POST("/api/users", { body: { name: `Batch ${who}`, email, password: "correct horse battery" } });
    assert.equal(signUp.response.status, 201);
    ids.push(signUp.data!.data.id);
    if (!token) {
      const login = await api.POST("/api/auth/token", { body: { email, password: "correct horse battery" } });
      token = login.data?.accessToken;
    }
  }
  const missing = "0b0e6f55-8d5f-0a7c-ca4e-6a0c9e8e2a11"; // version 0, variant c: well formed, nobody's
  const { data, response } = await api.GET("/api/users", { params: { query: { ids: [...ids, missing] } } });
  assert.equal(response.status, 200);
  assert.equal(new URL(response.url).search, `?ids=${[...ids, missing].join(",")}`);
  assert.deepEqual(data?.data.map((u) => u.id).sort(), [...ids].sort());

  const self = await fetch(new URL(data!.links.self, baseUrl), { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(self.status, 200);
  const again = (await self.json()) as { data: { id: string }[] };
  assert.deepEqual(again.data.map((u) => u.id).sort(), [...ids].sort());
});

test("conditional requests: the ETag read, 304 while unchanged, 412 for a stale If-Match", async () => {
  let token: string | undefined;
  const api = createJunctionClient(baseUrl, () => token);
  const email = `ts-etag-${Date.now()}-${Math.random().toString(16).slice(2)}@example.com`;
  await api.POST("/api/users", { body: { name: "ETag", email, password: "correct horse battery" } });
  token = (await api.POST("/api/auth/token", { body: { email, password: "correct horse battery" } })).data?.accessToken;

  const created = await api.POST("/api/posts", { body: { title: "Versioned", content: "One." } });
  const id = created.data!.data.id;
  const tag = etagOf(created);
  assert.match(tag ?? "", /^"\d+"$/);
  const read = await api.GET("/api/posts/{id}", { params: { path: { id } } });
  assert.equal(etagOf(read), tag);

  const unchanged = await api.GET("/api/posts/{id}", { params: { path: { id }, header: { "If-None-Match": tag } } });
  assert.equal(unchanged.response.status, 304);
  assert.equal(etagOf(unchanged), tag);

  const edited = await api.PATCH("/api/posts/{id}", { params: { path: { id }, header: { "If-Match": tag } }, body: { title: "Edited" } });
  assert.equal(edited.response.status, 200);
  const next = etagOf(edited);
  assert.notEqual(next, tag);

  const stale = await api.PATCH("/api/posts/{id}", { params: { path: { id }, header: { "If-Match": tag } }, body: { title: "Lost update" } });
  assert.equal(stale.response.status, 412);
  assert.equal(stale.error?.statusCode, 412);
  assert.equal(etagOf(stale), next, "the current tag, to read again");

  const deleted = await api.DELETE("/api/posts/{id}", { params: { path: { id }, header: { "If-Match": next } } });
  assert.equal(deleted.response.status, 204);
});
