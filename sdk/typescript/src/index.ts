// Junction's TypeScript SDK: openapi-fetch over types generated from openapi.yaml (src/schema.gen.ts, by
// `make generate`). Every path, parameter, body and response is typed; errors are the API's error envelope (the
// client sends no Accept: application/problem+json, so the server answers the envelope; ApiProblem types the
// RFC 9457 problem details that a client asking for them gets instead).
import createClient, { type Middleware } from "openapi-fetch";
import { keyedOperations } from "./keyed.gen.js";
import type { components, paths } from "./schema.gen.js";

export type { components, paths };
export type User = components["schemas"]["User"];
export type Post = components["schemas"]["Post"];
export type Comment = components["schemas"]["Comment"];
export type ApiError = components["schemas"]["Error"];
export type ApiProblem = components["schemas"]["Problem"];

/**
 * How the SDK writes array query parameters: as openapi.yaml declares every one of them (`ids`), `form` style
 * without `explode`, one parameter of comma-separated items (`ids=A,B`). openapi-fetch's default is exploded
 * (`ids=A&ids=B`), which the API refuses; the contract test checks that every array parameter of the spec is
 * declared this way, so that this one setting stays right.
 */
export const querySerializer = { array: { style: "form", explode: false } } as const;

/** How the client retries (see {@link retryingFetch}); `false` sends every request once. */
export interface RetryOptions {
  /** The most tries of one request, the first included (default 3). */
  attempts?: number;
  /** Bounds one request's tries and waits together, in milliseconds (default 30,000). */
  deadlineMs?: number;
  /** Before retry n, a random wait in [0, min(maxDelayMs, baseDelayMs·2ⁿ)] (defaults 200 and 5,000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Sends each try; the global fetch by default. */
  fetch?: (request: Request) => Promise<Response>;
}

export const idempotencyKeyHeader = "Idempotency-Key";

const keyed = keyedOperations.map(
  ([method, path]) => [method, new RegExp("^" + path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^/]+\}/g, "[^/]+") + "$")] as const,
);

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix time in milliseconds, then 74 random bits. The server files a stored answer
 * under its key's time when the key is one, so that keys made one after another sit side by side in its index.
 */
export function uuidV7(now: number = Date.now()): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let t = now;
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A fetch that retries what a real network loses, and only what is safe to send twice: a connection error, a 429,
 * a 503, and the 409 of a request whose Idempotency-Key is still running, waiting at least what Retry-After says,
 * otherwise exponentially longer with full jitter, within `attempts` and `deadlineMs`. GET, HEAD, PUT, DELETE and
 * OPTIONS are retried; POST and PATCH only where openapi.yaml takes an Idempotency-Key, which it adds (a UUIDv7:
 * random, and filed by the server under its time) unless the caller set one, and sends unchanged on every retry, so that the server answers a retry of a
 * request that did reach it with its first answer. A POST or PATCH elsewhere is retried when the caller gave it a
 * key of its own, as for a GraphQL mutation.
 */
export function retryingFetch(options: RetryOptions = {}): (request: Request) => Promise<Response> {
  const attempts = options.attempts ?? 3;
  const deadlineMs = options.deadlineMs ?? 30_000;
  const baseDelayMs = options.baseDelayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  const send = options.fetch ?? ((r: Request) => fetch(r));
  return async (request: Request) => {
    let retriable = ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"].includes(request.method);
    if (request.method === "POST" || request.method === "PATCH") {
      const path = new URL(request.url).pathname;
      if (keyed.some(([m, re]) => m === request.method && re.test(path))) {
        retriable = true;
        if (!request.headers.has(idempotencyKeyHeader)) {
          const headers = new Headers(request.headers);
          headers.set(idempotencyKeyHeader, uuidV7());
          request = new Request(request, { headers });
        }
      } else if (request.headers.has(idempotencyKeyHeader)) {
        // The caller's own key where the contract lists none (a GraphQL mutation): the caller says it is taken.
        retriable = true;
      }
    }
    if (!retriable || attempts <= 1) return send(request);
    const deadline = Date.now() + deadlineMs;
    for (let attempt = 0; ; attempt++) {
      let response: Response | undefined;
      let failure: unknown;
      try {
        response = await send(request.clone());
      } catch (err) {
        if (request.signal?.aborted) throw err;
        failure = err;
      }
      const wait = verdict(request, response);
      const last = attempt + 1 >= attempts;
      if (wait === undefined || last) {
        if (response) return response;
        throw failure;
      }
      const backoff = Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
      const delay = Math.max(wait, backoff);
      if (Date.now() + delay > deadline) {
        if (response) return response;
        throw failure;
      }
      await response?.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  };
}

/** The least wait before a retry of this outcome, in milliseconds; undefined when it is not retried. */
function verdict(request: Request, response: Response | undefined): number | undefined {
  if (!response) return 0; // a connection error
  const after = retryAfterMs(response.headers.get("Retry-After"));
  switch (response.status) {
    case 429:
    case 503:
      return after ?? 0;
    case 409:
      // Only the 409 of a key still running says Retry-After; an email already taken does not.
      return request.headers.has(idempotencyKeyHeader) && after !== undefined ? after : undefined;
  }
  return undefined;
}

function retryAfterMs(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isInteger(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(at - Date.now(), 0);
}

/**
 * The strong entity-tag of what a call read or wrote (its `ETag`), to send back as `If-None-Match` on a read
 * (`params: { header: { "If-None-Match": tag } }`, answered 304 while unchanged) or `If-Match` on a write
 * (answered 412, with the current tag, when someone else changed it first).
 */
export function etagOf(result: { response: Response }): string | undefined {
  return result.response.headers.get("ETag") ?? undefined;
}

/**
 * Creates a client for the Junction API at baseUrl; token, when given, is sent as a bearer token. Requests are
 * retried as {@link retryingFetch} says unless `retry` is false.
 */
export function createJunctionClient(baseUrl: string, token?: () => string | undefined, options: { retry?: RetryOptions | false } = {}) {
  const retry = options.retry ?? {};
  // "application/json": the responses the client reads are the envelope's media type, not problem+json's, which it
  // does not ask for.
  const client = createClient<paths, "application/json">({ baseUrl, querySerializer, ...(retry === false ? {} : { fetch: retryingFetch(retry) }) });
  if (token) {
    const auth: Middleware = {
      onRequest({ request }) {
        const t = token();
        if (t) request.headers.set("Authorization", `Bearer ${t}`);
        return request;
      },
    };
    client.use(auth);
  }
  return client;
}
