// Runs against a live server: JUNCTION_URL (default http://localhost:8080).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createJunctionClient, type ApiError, type Post } from "../src/index.js";

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

  // A 4xx comes back typed as the error envelope.
  const bad = await api.POST("/api/posts", { body: { title: "", content: "x" } });
  assert.equal(bad.response.status, 400);
  const err: ApiError | undefined = bad.error;
  assert.equal(err?.statusCode, 400);
  assert.ok(err?.errors?.title);
});
