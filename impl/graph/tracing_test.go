package graph_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/junction-dev/junction/impl/dbtest"
)

// TestOperationSpans: an operation is a span inside the request's "POST /graphql" span, named by its type and
// name, with its root fields; no span holds the document, a variable or an argument, a password among them.
func TestOperationSpans(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	in := newInstanceWith(t, dbtest.NewURL(t), instanceOptions{tracerProvider: tp})
	in.signUp(t, "Ada", "ada@example.com") // a password as a variable, then as a literal
	r := in.do(t, "", `query Who { users(limit: 1) { totalCount } }`, nil)
	require.NotEmpty(t, r.Errors, "signed out")

	byID := map[string]sdktrace.ReadOnlySpan{}
	names := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		byID[s.SpanContext().SpanID().String()] = s
		names[s.Name()] = s
		for _, a := range s.Attributes() {
			require.NotContains(t, a.Value.String(), "long enough", "%s: %s holds the password", s.Name(), a.Key)
			require.NotContains(t, a.Value.String(), "ada@example.com", "%s: %s holds an argument", s.Name(), a.Key)
		}
	}
	login, ok := names["mutation"]
	require.True(t, ok, "a nameless mutation is named by its type: %v", names)
	parent := byID[login.Parent().SpanID().String()]
	require.NotNil(t, parent)
	require.Equal(t, "POST /graphql", parent.Name())
	who := names["query Who"]
	require.NotNil(t, who)
	var roots []string
	for _, a := range who.Attributes() {
		if a.Key == "graphql.root_fields" {
			roots = a.Value.AsStringSlice()
		}
	}
	require.Equal(t, []string{"users"}, roots)
	require.Equal(t, "Error", who.Status().Code.String())
}
