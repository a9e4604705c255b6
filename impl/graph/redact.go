package graph

import (
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// gqlparser's messages quote what the client sent: a literal of the wrong type ("String cannot represent a non
// string value: SECRETPW123", a password given unquoted), a key of a variable's object that its type does not
// have (in the error's path), a token it could not parse. Whatever a client sent may be a secret, and an error
// is logged, shown and copied where the request is not: the messages below say which argument or variable is
// wrong and what it should be, from the schema's names only.

// validationRules are gqlparser's default rules with ValuesOfCorrectType's messages rewritten.
func validationRules() *rules.Rules {
	r := rules.NewDefaultRules()
	r.ReplaceRule(rules.ValuesOfCorrectTypeRule.Name, redactedValues(rules.ValuesOfCorrectTypeRule.RuleFunc))
	return r
}

// redactedValues runs ValuesOfCorrectType and rewrites each error it reports. Its observer of values runs just
// before the rule's own, so it knows the value each error is about; the argument holding that value is found in
// the document only once an error is reported (a map over its arguments, built once).
func redactedValues(inner core.RuleFunc) core.RuleFunc {
	return func(observers *core.Events, addError core.AddErrFunc) {
		var current *ast.Value
		var doc *ast.QueryDocument
		var where map[*ast.Value]string
		observers.OnValue(func(w *core.Walker, v *ast.Value) {
			current, doc = v, w.Document
		})
		inner(observers, func(options ...core.ErrorOption) {
			err := &gqlerror.Error{}
			for _, o := range options {
				o(err)
			}
			if where == nil {
				where = valuePlaces(doc)
			}
			addError(core.Message("%s", redactedValueMessage(err.Message, current, where)), atLocations(err.Locations))
		})
	}
}

// atLocations keeps an error's locations (line and column), which quote nothing.
func atLocations(locs []gqlerror.Location) core.ErrorOption {
	return func(err *gqlerror.Error) { err.Locations = locs }
}

func redactedValueMessage(msg string, v *ast.Value, where map[*ast.Value]string) string {
	switch {
	case strings.HasSuffix(msg, "was not provided.") || strings.HasSuffix(msg, "must be non-null.") ||
		strings.HasSuffix(msg, "must specify exactly one key."):
		return msg // schema names only
	case v == nil || v.ExpectedType == nil:
		return "A value in the query does not have the type its argument expects."
	}
	place := where[v]
	if place == "" {
		place = "a value in the query"
	}
	if strings.Contains(msg, "is not defined by type") && v.Definition != nil {
		return fmt.Sprintf("The input object given for %s has a field that %s does not define.", place, v.Definition.Name)
	}
	return fmt.Sprintf("The value given for %s is not a valid %s value.", place, v.ExpectedType.String())
}

// valuePlaces names the argument that holds each value of doc (nested values included): `argument "id" of
// field "post"`. Arguments whose names the schema does not know have no expected type, so ValuesOfCorrectType
// never reports on them: every name here is the schema's.
func valuePlaces(doc *ast.QueryDocument) map[*ast.Value]string {
	places := map[*ast.Value]string{}
	var value func(v *ast.Value, place string)
	value = func(v *ast.Value, place string) {
		if v == nil {
			return
		}
		places[v] = place
		for _, c := range v.Children {
			value(c.Value, place)
		}
	}
	directives := func(ds ast.DirectiveList) {
		for _, d := range ds {
			for _, a := range d.Arguments {
				value(a.Value, fmt.Sprintf("argument %q of directive @%s", a.Name, d.Name))
			}
		}
	}
	var set func(ast.SelectionSet)
	set = func(s ast.SelectionSet) {
		for _, sel := range s {
			switch s := sel.(type) {
			case *ast.Field:
				for _, a := range s.Arguments {
					value(a.Value, fmt.Sprintf("argument %q of field %q", a.Name, s.Name))
				}
				directives(s.Directives)
				set(s.SelectionSet)
			case *ast.InlineFragment:
				directives(s.Directives)
				set(s.SelectionSet)
			case *ast.FragmentSpread:
				directives(s.Directives)
			}
		}
	}
	if doc == nil {
		return places
	}
	for _, op := range doc.Operations {
		for _, vd := range op.VariableDefinitions {
			value(vd.DefaultValue, "the default value of a variable")
			directives(vd.Directives)
		}
		directives(op.Directives)
		set(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		directives(f.Directives)
		set(f.SelectionSet)
	}
	return places
}

// redactVariableError rewrites an error about a variable's value (validator.VariableValues'): its message may
// quote the value ("x is not a valid Role") and its path the keys of the value's objects, the client's own.
// The path keeps the variable, which the query declares; the message names its declared type.
func redactVariableError(oc *graphql.OperationContext, e *gqlerror.Error) {
	if len(e.Path) < 2 || e.Path[0] != ast.PathName("variable") {
		return
	}
	name, ok := e.Path[1].(ast.PathName)
	if !ok {
		return
	}
	typ := ""
	if oc != nil && oc.Operation != nil {
		if vd := oc.Operation.VariableDefinitions.ForName(string(name)); vd != nil {
			typ = vd.Type.String()
		}
	}
	nested := len(e.Path) > 2
	e.Path = e.Path[:2]
	switch {
	case !nested && e.Message == "must be defined":
		e.Message = fmt.Sprintf("Variable \"$%s\" of required type %s was not provided.", name, typ)
	case !nested && e.Message == "cannot be null":
		e.Message = fmt.Sprintf("Variable \"$%s\" of type %s cannot be null.", name, typ)
	case typ != "":
		e.Message = fmt.Sprintf("The value of variable \"$%s\" is not a valid %s value.", name, typ)
	default:
		e.Message = fmt.Sprintf("The value of variable \"$%s\" is not valid.", name)
	}
}

// redactParseError drops the text of the token a parse error quotes (`Expected Name, found String "hunter2"`:
// gqlparser writes a token as its kind, a space and its text quoted) and keeps its kind and location.
func redactParseError(e *gqlerror.Error) {
	msg := e.Message
	var b strings.Builder
	for {
		i := strings.Index(msg, ` "`)
		if i < 0 {
			break
		}
		b.WriteString(msg[:i])
		if !endsWithTokenKind(msg[:i]) {
			b.WriteString(` "`)
			msg = msg[i+2:]
			continue
		}
		end := i + 2
		for end < len(msg) && msg[end] != '"' {
			if msg[end] == '\\' {
				end++
			}
			end++
		}
		msg = msg[min(end+1, len(msg)):]
	}
	b.WriteString(msg)
	e.Message = b.String()
}

func endsWithTokenKind(s string) bool {
	for _, kind := range []string{"Name", "Int", "Float", "String", "BlockString"} {
		if strings.HasSuffix(s, " "+kind) || s == kind {
			return true
		}
	}
	return false
}

// redactRequestError rewrites the errors of a request that gqlgen refused before running it.
func redactRequestError(oc *graphql.OperationContext, e *gqlerror.Error) {
	if strings.HasPrefix(e.Message, "operation ") && strings.HasSuffix(e.Message, " not found") {
		// gqlgen quotes the client's operationName.
		e.Message = "The document has no operation of the operationName given."
		return
	}
	switch e.Extensions["code"] {
	case errcode.ValidationFailed:
		redactVariableError(oc, e)
	case errcode.ParseFailed:
		redactParseError(e)
	}
}
