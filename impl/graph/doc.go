// Package graph is Junction's GraphQL transport: resolvers for the schema in schema.graphqls (executed by the
// gqlgen code in gen/gql), per-request dataloaders so nested fields cost one statement per level, and the broker
// that fans events from every instance out to this instance's WebSocket subscribers. Its WebSockets have caps of
// their own (websocket.go: sockets in all and per client, subscriptions per socket, messages per second) instead
// of request slots, and each lives only as long as its session: the broker closes it (4401, 4403) when its token
// expires or its user is deleted, reset or changes role, before any event committed after the change. Resolvers call the service
// layer only, so GraphQL and REST share validation, ownership rules, transactions and jobs.
package graph
