// Package apitest checks an HTTP conversation against openapi.yaml from the client's side: every response to an
// operation in the spec must have a documented status and match its schema, so the spec and the server cannot
// drift apart unnoticed. It also keeps every response body, so a test can assert what never appears in one.
package apitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	junction "github.com/junction-dev/junction"
	"github.com/junction-dev/junction/impl/ecma262"
)

// Transport is an http.RoundTripper that validates each response against openapi.yaml. A response that does not
// match the spec turns into an error from RoundTrip, which fails the request in the test that made it.
type Transport struct {
	base   http.RoundTripper
	router routers.Router

	mu     sync.Mutex
	bodies [][]byte
}

// NewTransport returns a validating Transport over base (http.DefaultTransport when nil).
func NewTransport(base http.RoundTripper) (*Transport, error) {
	if base == nil {
		base = http.DefaultTransport
	}
	doc, err := Contract()
	if err != nil {
		return nil, err
	}
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("apitest: router: %w", err)
	}
	return &Transport{base: base, router: router}, nil
}

// Contract loads openapi.yaml as written. gen/api's embedded copy lacks the headers that middleware sets on every
// response (oapi-codegen.overlay.yaml), which responses must carry all the same.
func Contract() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(junction.OpenAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("apitest: load openapi.yaml: %w", err)
	}
	return doc, nil
}

// RoundTrip sends req and validates the response when req is an operation of the spec.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	// Route on a copy: the request body is the server's to read.
	route, pathParams, routeErr := t.router.FindRoute(req.Clone(req.Context()))
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("apitest: read response: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	t.mu.Lock()
	t.bodies = append(t.bodies, body)
	t.mu.Unlock()

	if routeErr != nil {
		return resp, nil // not an operation (docs, unknown paths): nothing to validate against
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: pathParams, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: resp.StatusCode,
		Header: resp.Header,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				openapi3.EnableFormatValidation(),
				// Patterns mean what ECMA-262 says, as in the server's request validation.
				openapi3.SetSchemaRegexCompiler(func(expr string) (openapi3.RegexMatcher, error) { return ecma262.Compile(expr) }),
			},
		},
	}
	if err := openapi3filter.ValidateResponse(context.WithoutCancel(req.Context()), in); err != nil {
		return nil, fmt.Errorf("apitest: %s %s answered %d, which openapi.yaml does not allow: %w\nbody: %s",
			req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
	return resp, nil
}

// BodiesContaining returns the response bodies seen so far that contain s.
func (t *Transport) BodiesContaining(s string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, b := range t.bodies {
		if strings.Contains(string(b), s) {
			out = append(out, string(b))
		}
	}
	return out
}
