// Package graph is Junction's GraphQL transport: resolvers for the schema in schema.graphqls (executed by the
// gqlgen code in gen/gql), per-request dataloaders so nested fields cost one statement per level, a fast path
// that answers the read root fields level by level without gqlgen's goroutine per list element (fastpath.go),
// and the broker that fans events from every instance out to this instance's WebSocket subscribers. Resolvers call the service
// layer only, so GraphQL and REST share validation, ownership rules, transactions and jobs.
//
// WebSockets hold no request slot; they have caps of their own instead (websocket.go: sockets in all and per
// client, subscriptions per socket, messages per second). Each lives only as long as its session: it is closed
// (4401, 4403) when its token expires or its user is deleted, resets their password or changes role, before any
// event committed after the change reaches it.
package graph
