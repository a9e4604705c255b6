package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// operationSpans makes a span of each operation's execution (of each event, for a subscription), inside the
// HTTP request's span: "query NAME", "mutation NAME", with the operation's type, name and root fields, and
// whether it answered errors.
//
// Not otelgqlgen: it records the document's text, the variables and every field's arguments by default, and the
// text cannot be turned off. A document can hold a password as a literal (login(password: "...")), and its
// variables and arguments do (createUser, updateUser, confirmPasswordReset): here only names from the schema and
// the operation's own name are kept, as the error messages keep only names (redact.go).
type operationSpans struct{ tracer trace.Tracer }

var (
	_ graphql.HandlerExtension    = operationSpans{}
	_ graphql.ResponseInterceptor = operationSpans{}
)

// tracerName is the instrumentation scope of the operation spans.
const tracerName = "github.com/junction-dev/junction/impl/graph"

func (operationSpans) ExtensionName() string                   { return "OperationSpans" }
func (operationSpans) Validate(graphql.ExecutableSchema) error { return nil }

func (o operationSpans) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil {
		return next(ctx)
	}
	typ := string(oc.Operation.Operation)
	name := typ
	if oc.Operation.Name != "" {
		name += " " + oc.Operation.Name
	}
	ctx, span := o.tracer.Start(ctx, name, trace.WithAttributes(
		attribute.String("graphql.operation.type", typ),
		attribute.String("graphql.operation.name", oc.Operation.Name),
	))
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(attribute.StringSlice("graphql.root_fields", rootFields(oc.Operation.SelectionSet)))
	}
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		// The messages stay out: the answer and the log have them, and a span is copied further still.
		span.SetAttributes(attribute.Int("graphql.errors", len(resp.Errors)))
		span.SetStatus(otelcodes.Error, "the answer has errors")
	}
	return resp
}

// rootFields are the schema's names of the operation's top fields (aliases and fragments aside).
func rootFields(set ast.SelectionSet) []string {
	out := make([]string, 0, len(set))
	for _, s := range set {
		if f, ok := s.(*ast.Field); ok {
			out = append(out, f.Name)
		}
	}
	return out
}
