// A webhook receiver, as an application that takes Junction's webhooks writes one (docs/webhooks.md). Runs against
// a live server (JUNCTION_URL, default http://localhost:8080) that may send to loopback (WEBHOOK_ALLOW_PRIVATE_TARGETS,
// on by default with APP_ENV=development): it listens on 127.0.0.1, registers that address as a webhook endpoint,
// makes Junction send a test event, a post published and edited, and a reader's comment, verifies every delivery
// with the standardwebhooks package and narrows it as a WebhookPayload. A replay is taken once; a tampered body is
// refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { createJunctionClient, type components } from "../src/index.js";

type WebhookPayload = components["schemas"]["WebhookPayload"];
type Client = ReturnType<typeof createJunctionClient>;

const baseUrl = process.env.JUNCTION_URL ?? "http://localhost:8080";
// The first attempt is made at once, and a short retry schedule (make e2e's is 1s,2s) fits both retries in this.
const waitFor = 30_000;
// Junction's bodies are the REST resources, far smaller than this.
const maxBody = 1 << 20;
const signatureHeaders = ["webhook-id", "webhook-timestamp", "webhook-signature"] as const;

/** What the receiver made of one POST: the verified event, as sent, or why it was refused. */
type Delivery =
  | { id: string; headers: Record<string, string>; body: string; payload: WebhookPayload }
  | { id: string; error: unknown };

/** Deliveries in the order the receiver took them, for a test to wait on. */
class Inbox {
  private items: Delivery[] = [];
  private waiters: ((d: Delivery) => void)[] = [];

  push(d: Delivery) {
    const waiter = this.waiters.shift();
    if (waiter) waiter(d);
    else this.items.push(d);
  }

  get size() {
    return this.items.length;
  }

  next(signal: AbortSignal): Promise<Delivery> {
    const d = this.items.shift();
    if (d) return Promise.resolve(d);
    return new Promise((resolve, reject) => {
      const waiter = (d: Delivery) => {
        signal.removeEventListener("abort", onAbort);
        resolve(d);
      };
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(signal.reason);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }
}

/**
 * The part of a webhook consumer that any application needs: it verifies the signature over the raw body before
 * anything else, answers fast (Junction waits 15 s at most), and acts on each webhook-id once. Until the endpoint
 * is registered, which is when its secret is known, every POST is answered 503, which Junction retries.
 */
function startReceiver() {
  const inbox = new Inbox();
  const seen = new Set<string>(); // a real receiver keeps these in its database, 30 days (re-sends are possible)
  let verifier: Webhook | undefined;

  const server = createServer(async (req, res) => {
    if (req.method !== "POST") {
      res.writeHead(405).end();
      return;
    }
    if (!verifier) {
      res.writeHead(503).end("not ready");
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      res.writeHead(413).end();
      return;
    }
    const headers = Object.fromEntries(signatureHeaders.map((h) => [h, String(req.headers[h] ?? "")]));
    const id = headers["webhook-id"];
    let payload: WebhookPayload;
    try {
      // Checks the timestamp (within 5 minutes) and the signature over the bytes as they came, then parses them:
      // a body parsed and serialized again would not match. The cast is safe once the signature is Junction's.
      payload = verifier.verify(body, headers) as WebhookPayload;
    } catch (error) {
      inbox.push({ id, error });
      res.writeHead(400).end("invalid signature");
      return;
    }
    if (!seen.has(id)) {
      seen.add(id);
      inbox.push({ id, headers, body, payload });
    }
    // Any 2xx is success; a 204 says so without a body for Junction's log to keep.
    res.writeHead(204).end();
  });

  return {
    inbox,
    server,
    useSecret(secret: string) {
      verifier = new Webhook(secret);
    },
  };
}

/** Reads a request's body as UTF-8 text, or undefined past maxBody. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBody) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Narrows the payload by its type and says what it is about: a key (type and resource id) and a line for people. */
function about(p: WebhookPayload): [key: string, summary: string] {
  switch (p.type) {
    case "webhook.test":
      return [`${p.type} ${p.data.endpointId}`, JSON.stringify(p.data.message)];
    case "post.published":
      return [`${p.type} ${p.data.id}`, `post ${JSON.stringify(p.data.title)} published at ${p.timestamp}`];
    case "post.updated":
      return [`${p.type} ${p.data.id}`, `post now titled ${JSON.stringify(p.data.title)}`];
    case "comment.created":
      return [`${p.type} ${p.data.id}`, `comment ${JSON.stringify(p.data.content)} on post ${p.data.postId}`];
    default:
      // A receiver should accept and ignore a type it does not know: the list of types may grow.
      return [p.type, "a type this receiver does not handle"];
  }
}

async function signUp(name: string): Promise<Client> {
  let token: string | undefined;
  const api = createJunctionClient(baseUrl, () => token);
  const email = `ts-receiver-${Date.now()}-${Math.random().toString(16).slice(2)}@example.com`;
  const password = "correct horse battery";
  const created = await api.POST("/api/users", { body: { name, email, password } });
  assert.equal(created.response.status, 201);
  const login = await api.POST("/api/auth/token", { body: { email, password } });
  assert.equal(login.response.status, 200);
  token = login.data?.accessToken;
  return api;
}

/** The endpoint's delivery log, Junction's side of the story, for a failure's message. */
async function deliveryLog(api: Client, id: string): Promise<string> {
  const { data } = await api.GET("/api/webhook-endpoints/{id}/deliveries", { params: { path: { id } } });
  return (data?.data ?? [])
    .map((d) =>
      [`  ${d.eventType} ${d.eventId}: ${d.status} after ${d.attemptCount} attempt(s)`]
        .concat(d.attempts.map((a) => `    attempt ${a.attempt} at ${a.attemptedAt}: ${a.statusCode ?? "no answer"} ${a.error ?? JSON.stringify(a.response)}`))
        .join("\n"),
    )
    .join("\n");
}

test("a webhook receiver: every event verified and typed, a replay taken once, a tampered body refused", async () => {
  const author = await signUp("TypeScript receiver");
  const reader = await signUp("A reader");

  const receiver = startReceiver();
  await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
  const { port } = receiver.server.address() as AddressInfo;
  const hookUrl = `http://127.0.0.1:${port}/webhooks/junction`;
  try {
    const created = await author.POST("/api/webhook-endpoints", {
      body: {
        url: hookUrl,
        description: "the TypeScript SDK's receiver example",
        eventTypes: ["post.published", "post.updated", "comment.created", "webhook.test"],
      },
    });
    assert.equal(created.response.status, 201, JSON.stringify(created.error));
    const endpoint = created.data!.data;
    // The secret is in this answer only: a real receiver stores it now, as it would a password.
    receiver.useSecret(endpoint.secret);

    // One event of each type the endpoint takes; each key is what the event is about.
    const expected = new Set<string>();
    const sent = await author.POST("/api/webhook-endpoints/{id}/test", { params: { path: { id: endpoint.id } } });
    assert.equal(sent.response.status, 202);
    expected.add(`webhook.test ${endpoint.id}`);

    // A draft tells nobody but its author; publishing it is the event.
    const draft = await author.POST("/api/posts", { body: { title: "Webhooks, received", content: "Verified before parsed.", published: false } });
    assert.equal(draft.response.status, 201);
    const postId = draft.data!.data.id;
    const published = await author.POST("/api/posts/{id}/publish", { params: { path: { id: postId } } });
    assert.equal(published.response.status, 200);
    expected.add(`post.published ${postId}`);
    const patched = await author.PATCH("/api/posts/{id}", { params: { path: { id: postId } }, body: { title: "Webhooks, received and verified" } });
    assert.equal(patched.response.status, 200);
    expected.add(`post.updated ${postId}`);

    // Someone else's comment on the author's post reaches the author's endpoints.
    const comment = await reader.POST("/api/posts/{id}/comments", { params: { path: { id: postId } }, body: { content: "Signed, sealed, delivered." } });
    assert.equal(comment.response.status, 201);
    expected.add(`comment.created ${comment.data!.data.id}`);

    // Every expected event, verified; a refusal, or an event this endpoint should not hear of, fails at once.
    const deadline = AbortSignal.timeout(waitFor);
    let last: Extract<Delivery, { payload: WebhookPayload }> | undefined;
    try {
      while (expected.size > 0) {
        const d = await receiver.inbox.next(deadline);
        if ("error" in d) throw new Error(`delivery ${d.id} refused: ${d.error}`);
        const [key, summary] = about(d.payload);
        if (!expected.delete(key)) throw new Error(`delivery ${d.id}: ${key}, which this endpoint should not hear of`);
        console.log(`verified ${d.payload.type} (webhook-id ${d.id}): ${summary}`);
        last = d;
      }
    } catch (err) {
      const why = deadline.aborted ? `no verified delivery of ${[...expected].join(", ")} within ${waitFor} ms` : String(err);
      assert.fail(`${why}\nthe endpoint's delivery log:\n${await deliveryLog(author, endpoint.id)}`);
    }
    assert.ok(last);

    // The same delivery again, intact (as a retry after a lost answer is): acknowledged, not taken again.
    const replay = await fetch(hookUrl, { method: "POST", headers: last.headers, body: last.body });
    assert.equal(replay.status, 204);
    assert.equal(receiver.inbox.size, 0);

    // The same headers with the body changed to claim another event type: Junction's signature no longer matches.
    const tampered = last.body.replace(`"${last.payload.type}"`, `"post.deleted"`);
    assert.notEqual(tampered, last.body);
    const forged = await fetch(hookUrl, { method: "POST", headers: last.headers, body: tampered });
    assert.equal(forged.status, 400);
    const refused = await receiver.inbox.next(AbortSignal.timeout(1000));
    assert.ok("error" in refused && refused.error instanceof WebhookVerificationError);
    assert.equal((refused.error as Error).message, "No matching signature found");
  } finally {
    receiver.server.closeAllConnections();
    receiver.server.close();
  }
});
