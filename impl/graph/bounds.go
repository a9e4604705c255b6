package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// The bounds of a document, checked before gqlparser validates it. Validation is not linear: the rule that
// fields of one response name can be merged (OverlappingFieldsCanBeMerged) compares them in pairs, so
// {__typename ×5890} (59 KB) took 3.4 s of CPU and {a:posts{totalCount} a:__typename ×800} answered n²/4 errors
// (166 MB from 26 KB); and the walkers after it (depth, cost) expanded every fragment spread again, so 28
// fragments each spreading the next twice (under 1 KB) were 2^28 walks. Every bound below is checked in one
// pass over the parsed document, fragments memoized, so a refusal costs about what parsing does.
const (
	// maxTokens is the parser's token limit: gqlparser stops lexing past it, so no document makes any later step
	// longer than this allows. GraphiQL's own introspection query is about 200 tokens.
	maxTokens = 5000
	// maxSelections is the most fields a document may hold once each fragment spread is replaced by its
	// fragment, counted over every operation and fragment definition (as validation walks them all). GraphiQL's
	// introspection query is about 470; the README's nested query 7.
	maxSelections = 5000
	// maxSameName is how many fields of one response name (alias, else name) one selection set may hold,
	// inline fragments included: validation compares them in pairs, and real queries repeat a name a few times
	// at most (a field asked for in several inline fragments).
	maxSameName = 16
	// maxIntrospectionRoots is how many __schema and __type fields one operation may hold. Each answers from
	// the whole schema whatever the query's size (F1: 3,000 aliases of one fragment, 62 KB, 28 MB each to
	// answer), and a client needs one.
	maxIntrospectionRoots = 3
	// maxNameBytes is the longest alias (or name) a field may have. An alias is repeated in the answer for every
	// item of the lists around it, and __typename is answered without the size cap seeing it: 400 aliases of
	// __typename 2,000 characters long under a list answered 215 MB from an 806 KB query.
	maxNameBytes = 64
	// maxTypenames is how many __typename fields, whatever their aliases, one selection set may hold, fragments
	// included: a client needs one (Apollo's adds one to each fragment, which merge).
	maxTypenames = 16
	// maxErrors is the most errors one answer carries: the last says how many were left out. A query of 2,900
	// aliases of a missing post would otherwise answer 2,900 errors.
	maxErrors = 50
)

// documentBounds refuses a document over the bounds above, before gqlgen parses and validates it. It is an
// operation-parameter mutator, so it runs for every transport, WebSocket included. A document already in the
// query cache passed it, so it is not parsed twice.
type documentBounds struct {
	cache graphql.Cache[*ast.QueryDocument]
}

var (
	_ graphql.HandlerExtension          = documentBounds{}
	_ graphql.OperationParameterMutator = documentBounds{}
)

func (documentBounds) ExtensionName() string                   { return "DocumentBounds" }
func (documentBounds) Validate(graphql.ExecutableSchema) error { return nil }

func (b documentBounds) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if len(p.OperationName) > maxNameBytes {
		return tooLarge(fmt.Sprintf("The operationName is longer than %d bytes.", maxNameBytes), maxNameBytes)
	}
	if _, cached := b.cache.Get(ctx, p.Query); cached {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, maxTokens)
	if err != nil {
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) && strings.HasPrefix(gqlErr.Message, "exceeded token limit") {
			return tooLarge(fmt.Sprintf("The query has more than %d tokens (names, values and punctuation), the most this server parses.", maxTokens), maxTokens)
		}
		return nil // a syntax error: gqlgen's own parse reports it, as it always has
	}
	return checkDocument(doc)
}

func tooLarge(msg string, limit int) *gqlerror.Error {
	err := gqlerror.Errorf("%s", msg)
	err.Extensions = map[string]any{"code": "QUERY_TOO_LARGE", "limit": limit}
	return err
}

// checkDocument applies the bounds to a parsed, not yet validated document: fragments may be missing, unused or
// cyclic (validation refuses those afterwards), and none of that may make the check itself large.
func checkDocument(doc *ast.QueryDocument) *gqlerror.Error {
	c := &docCounter{
		fragments: make(map[string]*ast.FragmentDefinition, len(doc.Fragments)),
		size:      make(map[string]int, len(doc.Fragments)),
		roots:     make(map[string]int, len(doc.Fragments)),
		names:     make(map[string]map[string]int, len(doc.Fragments)),
		active:    make(map[string]bool),
	}
	for _, f := range doc.Fragments {
		if _, dup := c.fragments[f.Name]; !dup {
			c.fragments[f.Name] = f
		}
	}
	// The field count first: it bounds the work of the checks after it.
	total := 0
	for _, op := range doc.Operations {
		total = satAdd(total, c.selections(op.SelectionSet))
	}
	for _, f := range doc.Fragments {
		total = satAdd(total, c.fragment(f.Name))
	}
	if total > maxSelections {
		return tooLarge(fmt.Sprintf("The query selects more than %d fields once its fragments are spread; ask for fewer fields or fewer aliases.", maxSelections), maxSelections)
	}
	if c.longName {
		return tooLarge(fmt.Sprintf("An alias is longer than %d bytes, the longest this server answers.", maxNameBytes), maxNameBytes)
	}
	for _, op := range doc.Operations {
		if n := c.introspectionRoots(op.SelectionSet); n > maxIntrospectionRoots {
			err := gqlerror.Errorf("The operation asks for __schema or __type %d times; the limit is %d.", n, maxIntrospectionRoots)
			err.Extensions = map[string]any{"code": "QUERY_TOO_LARGE", "limit": maxIntrospectionRoots}
			return err
		}
	}
	for _, op := range doc.Operations {
		if _, ok := c.responseNames(op.SelectionSet); !ok {
			return sameName()
		}
	}
	for _, f := range doc.Fragments {
		if _, ok := c.fragmentNames(f.Name); !ok {
			return sameName()
		}
	}
	return nil
}

// sameName refuses a selection set that repeats a response name. The name is the client's own text, and
// validated by nothing yet: it is not repeated back.
func sameName() *gqlerror.Error {
	return tooLarge(fmt.Sprintf("A selection set asks for one field name or alias more than %d times, or for __typename more than %d times, its fragments included.", maxSameName, maxTypenames), maxSameName)
}

// docCounter expands fragment spreads with memoization: each fragment is counted once, however many times and
// however deep it is spread, and counts saturate instead of overflowing.
type docCounter struct {
	fragments map[string]*ast.FragmentDefinition
	size      map[string]int            // fields of a fragment, spreads expanded
	roots     map[string]int            // __schema and __type fields at a fragment's top level
	names     map[string]map[string]int // response names at a fragment's top level, spreads merged
	active    map[string]bool
	// longName is set when a field's alias is longer than maxNameBytes.
	longName bool
}

func (c *docCounter) selections(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.Alias) > maxNameBytes {
				c.longName = true
			}
			n = satAdd(n, satAdd(1, c.selections(s.SelectionSet)))
		case *ast.InlineFragment:
			n = satAdd(n, c.selections(s.SelectionSet))
		case *ast.FragmentSpread:
			n = satAdd(n, c.fragment(s.Name))
		}
	}
	return n
}

func (c *docCounter) fragment(name string) int {
	if n, ok := c.size[name]; ok {
		return n
	}
	f := c.fragments[name]
	if f == nil || c.active[name] {
		return 0 // unknown or cyclic: validation refuses it, after this bounded walk
	}
	c.active[name] = true
	n := c.selections(f.SelectionSet)
	delete(c.active, name)
	c.size[name] = n
	return n
}

// introspectionRoots counts an operation's __schema and __type fields, through the fragments at its top level.
func (c *docCounter) introspectionRoots(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				n = satAdd(n, 1)
			}
		case *ast.InlineFragment:
			n = satAdd(n, c.introspectionRoots(s.SelectionSet))
		case *ast.FragmentSpread:
			m, ok := c.roots[s.Name]
			if !ok {
				if f := c.fragments[s.Name]; f != nil && !c.active[s.Name] {
					c.active[s.Name] = true
					m = c.introspectionRoots(f.SelectionSet)
					delete(c.active, s.Name)
				}
				c.roots[s.Name] = m
			}
			n = satAdd(n, m)
		}
	}
	return n
}

// responseNames counts the response names (alias, else name) of one selection set as validation and execution
// merge them: its fields, those of its inline fragments and those of the fragments it spreads. It reports false
// when a name passes maxSameName, there or in any selection set nested in it. Merging a fragment's names costs
// at most its field count, which the total bound has kept small.
func (c *docCounter) responseNames(set ast.SelectionSet) (map[string]int, bool) {
	counts := map[string]int{}
	return counts, c.addNames(set, counts)
}

func (c *docCounter) addNames(set ast.SelectionSet, counts map[string]int) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			name := s.Alias
			if name == "" {
				name = s.Name
			}
			if counts[name]++; counts[name] > maxSameName {
				return false
			}
			// Counted apart from response names, under a key no name can be ("\x00" is not a name character).
			if s.Name == "__typename" {
				if counts["\x00__typename"]++; counts["\x00__typename"] > maxTypenames {
					return false
				}
			}
			if len(s.SelectionSet) > 0 {
				if _, ok := c.responseNames(s.SelectionSet); !ok {
					return false
				}
			}
		case *ast.InlineFragment:
			if !c.addNames(s.SelectionSet, counts) {
				return false
			}
		case *ast.FragmentSpread:
			names, ok := c.fragmentNames(s.Name)
			if !ok {
				return false
			}
			for name, n := range names {
				if counts[name] += n; counts[name] > maxSameName {
					return false
				}
			}
		}
	}
	return true
}

func (c *docCounter) fragmentNames(name string) (map[string]int, bool) {
	if names, ok := c.names[name]; ok {
		return names, true
	}
	f := c.fragments[name]
	if f == nil || c.active[name] {
		return nil, true
	}
	c.active[name] = true
	names, ok := c.responseNames(f.SelectionSet)
	delete(c.active, name)
	if !ok {
		return nil, false
	}
	c.names[name] = names
	return names, true
}

// satAdd adds two non-negative counts, saturating instead of overflowing.
func satAdd(a, b int) int {
	const maxInt = int(^uint(0) >> 1)
	if a > maxInt-b {
		return maxInt
	}
	return a + b
}

// errorCap keeps an answer's errors to maxErrors, the last of them saying how many more there were: every
// answer goes through it, validation's and WebSocket's included, so no query makes a large answer of errors.
type errorCap struct{}

var (
	_ graphql.HandlerExtension    = errorCap{}
	_ graphql.ResponseInterceptor = errorCap{}
)

func (errorCap) ExtensionName() string                   { return "ErrorCap" }
func (errorCap) Validate(graphql.ExecutableSchema) error { return nil }

func (errorCap) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp != nil {
		resp.Errors = capErrors(resp.Errors)
	}
	return resp
}

func capErrors(errs gqlerror.List) gqlerror.List {
	if len(errs) <= maxErrors {
		return errs
	}
	left := len(errs) - (maxErrors - 1)
	more := gqlerror.Errorf("%d more errors were left out; this server sends at most %d.", left, maxErrors)
	more.Extensions = map[string]any{"code": "TOO_MANY_ERRORS", "omitted": left, "limit": maxErrors}
	return append(errs[:maxErrors-1:maxErrors-1], more)
}
