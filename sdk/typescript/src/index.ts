// Junction's TypeScript SDK: openapi-fetch over types generated from openapi.yaml (src/schema.gen.ts, by
// `make generate`). Every path, parameter, body and response is typed; errors are the API's error envelope.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.gen.js";

export type { components, paths };
export type User = components["schemas"]["User"];
export type Post = components["schemas"]["Post"];
export type Comment = components["schemas"]["Comment"];
export type ApiError = components["schemas"]["Error"];

/** Creates a client for the Junction API at baseUrl; token, when given, is sent as a bearer token. */
export function createJunctionClient(baseUrl: string, token?: () => string | undefined) {
  const client = createClient<paths>({ baseUrl });
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
