// Junction's TypeScript SDK: openapi-fetch over types generated from openapi.yaml (src/schema.gen.ts, by
// `make generate`). Every path, parameter, body and response is typed; errors are the API's error envelope.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.gen.js";

export type { components, paths };
export type User = components["schemas"]["User"];
export type Post = components["schemas"]["Post"];
export type Comment = components["schemas"]["Comment"];
export type ApiError = components["schemas"]["Error"];

/**
 * How the SDK writes array query parameters: as openapi.yaml declares every one of them (`ids`), `form` style
 * without `explode`, one parameter of comma-separated items (`ids=A,B`). openapi-fetch's default is exploded
 * (`ids=A&ids=B`), which the API refuses; the contract test checks that every array parameter of the spec is
 * declared this way, so that this one setting stays right.
 */
export const querySerializer = { array: { style: "form", explode: false } } as const;

/** Creates a client for the Junction API at baseUrl; token, when given, is sent as a bearer token. */
export function createJunctionClient(baseUrl: string, token?: () => string | undefined) {
  const client = createClient<paths>({ baseUrl, querySerializer });
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
