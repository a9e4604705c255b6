// Package graph is Junction's GraphQL transport: resolvers for the schema in schema.graphqls (executed by the
// gqlgen code in gen/gql), per-request dataloaders so nested fields cost one statement per level, and the broker
// that fans events from every instance out to this instance's WebSocket subscribers. Resolvers call the service
// layer only, so GraphQL and REST share validation, ownership rules, transactions and jobs.
package graph
