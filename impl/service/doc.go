// Package service holds Junction's business rules. REST handlers and GraphQL resolvers call it and only translate
// to and from its types, so both APIs validate, authorize and write the same way.
//
// It is the only package that touches the generated queries (gen/db). Every write runs in one transaction:
// sqlc writes, then job inserts, then notifications, then commit, so a rolled-back write leaves no trace.
package service
