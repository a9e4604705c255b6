// Package httpapi is Junction's REST transport. [Server] implements the strict interface that oapi-codegen
// generates from openapi.yaml; [NewHandler] wraps it in the middleware every request passes through: request ids,
// access logs, panic recovery, and validation against openapi.yaml before any handler runs.
//
// Handlers only translate between the API's types and the service's; service errors become statuses in one
// table ([statusFor]), and every non-2xx response is written by one [errorWriter]: the envelope ([api.Error]), or
// RFC 9457 problem details ([api.Problem]) when the request's Accept prefers application/problem+json, of a
// problem type that openapi.yaml's x-problem-types declares (problem.go).
package httpapi
