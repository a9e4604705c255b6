// Package service is the vocabulary of Junction's business layer: the types that REST handlers, GraphQL resolvers
// and workers hand to the services and get back (users, posts, comments, pages, the signed-in [Actor]), the
// [Error] every service fails with and its [Code]s, the job args the services insert, and the events they announce.
//
// The services themselves live in its subpackages, one per aggregate (accounts, users, posts, comments, billing,
// emails, ops) over a shared core (internal/core); listener keeps the authentication cache coherent and hands
// every instance's events to the subscription broker, and wire builds them all. Only the aggregates and the core
// touch the generated queries (gen/db). Every write runs
// in one transaction: sqlc writes, job inserts and notifications all inside it, then commit, so a rolled-back
// write leaves no trace. docs/architecture.md is the map.
package service
