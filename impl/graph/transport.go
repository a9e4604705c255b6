package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// postJSON is the POST transport (a JSON body, one operation). It replaces gqlgen's transport.POST, which
//   - answers a body it cannot decode (a batch array, a query that is a number) with an error that quotes the
//     whole body back, password included;
//   - decodes with encoding/json, which turns invalid UTF-8 and lone surrogate escapes ("\ud800") into U+FFFD
//     without a word, so a client's broken text would be stored as something it never sent.
//
// Here the body is checked first (valid UTF-8, no lone surrogate, one object), and every refusal is a fixed
// message that never repeats what was sent.
type postJSON struct{ logger *slog.Logger }

var _ graphql.Transport = postJSON{}

func (postJSON) Supports(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("Upgrade") != "" {
		return false
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mediaType == "application/json"
}

const graphqlResponseJSON = "application/graphql-response+json"

func (t postJSON) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	graphqlResponse := wantsGraphQLResponse(r.Header.Get("Accept"))
	if graphqlResponse {
		w.Header().Set("Content-Type", graphqlResponseJSON)
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			t.refuse(ctx, w, exec, http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is over %d bytes.", tooBig.Limit))
			return
		}
		t.refuse(ctx, w, exec, http.StatusBadRequest, "The request body could not be read.")
		return
	}
	if msg := checkBody(body); msg != "" {
		t.refuse(ctx, w, exec, http.StatusBadRequest, msg)
		return
	}
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		t.refuse(ctx, w, exec, http.StatusBadRequest, decodeMessage(err))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	oc, opErr := exec.CreateOperationContext(ctx, &params)
	if opErr != nil {
		// gqlgen's statuses: parse and validation errors are the protocol's (422, or 400 for the GraphQL
		// response type); the rest, ours included, are answers (200).
		if errcode.GetErrorKind(opErr) == errcode.KindProtocol {
			if graphqlResponse {
				w.WriteHeader(http.StatusBadRequest)
			} else {
				w.WriteHeader(http.StatusUnprocessableEntity)
			}
		}
		t.write(ctx, w, exec.DispatchError(graphql.WithOperationContext(ctx, oc), opErr))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	t.write(ctx, w, responses(ctx))
}

// refuse answers a body that is not one well-formed operation, in the error envelope and through the error
// presenter like every other error.
func (t postJSON) refuse(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, status int, msg string) {
	w.WriteHeader(status)
	err := &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": "BAD_USER_INPUT"}}
	t.write(ctx, w, exec.DispatchError(ctx, gqlerror.List{err}))
}

func (t postJSON) write(ctx context.Context, w io.Writer, resp *graphql.Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		// Only a resolver's value that is not JSON could get here; the answer is lost, so say so in the log.
		t.logger.ErrorContext(ctx, "graphql response not encodable", "err", err)
		b = []byte(`{"errors":[{"message":"An unexpected error occurred.","extensions":{"code":"INTERNAL_SERVER_ERROR"}}],"data":null}`)
	}
	_, _ = w.Write(b)
}

// wantsGraphQLResponse follows gqlgen's negotiation: application/json unless the client asks for the GraphQL
// response type first, or only for types neither of them is.
func wantsGraphQLResponse(accept string) bool {
	if accept == "" {
		return false
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", "application/json":
			return false
		case graphqlResponseJSON:
			return true
		}
	}
	return true
}

// checkBody refuses, with a message that quotes nothing of it, a body that is not valid UTF-8, holds a lone
// surrogate escape, or is an array (a batch, which this server does not run).
func checkBody(body []byte) string {
	if msg := checkText(body); msg != "" {
		return "The request body " + msg + "."
	}
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) > 0 && b[0] == '[' {
		return "Batched operations (a JSON array) are not supported: send one operation per request, as an object."
	}
	return ""
}

// checkText says what is wrong with JSON text that is not valid UTF-8 or that escapes a lone UTF-16 surrogate
// (\ud800 to \udfff, other than a high one followed by a low one), or "" if nothing is. encoding/json would turn
// either into U+FFFD without a word.
func checkText(text []byte) string {
	if !utf8.Valid(text) {
		return "is not valid UTF-8"
	}
	if loneSurrogate(text) {
		return `has a lone UTF-16 surrogate escape (\ud800 to \udfff not in a high-low pair)`
	}
	return ""
}

// loneSurrogate reports whether an escape in s (JSON's, or a GraphQL string's: they are the same) names a UTF-16
// surrogate that is not half of a pair. Backslashes appear only as escapes in both, so skipping each escape is
// enough to stay in step.
func loneSurrogate[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		if i+1 < len(s) && s[i+1] != 'u' {
			i++ // \\ \" \n ...: the escaped byte is not an escape of its own
			continue
		}
		r, ok := hex4(s, i+2)
		if !ok {
			continue // malformed: the decoder refuses it itself
		}
		i += 5
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		case r >= 0xD800 && r <= 0xDBFF:
			if i+2 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
				if low, ok := hex4(s, i+3); ok && low >= 0xDC00 && low <= 0xDFFF {
					i += 6
					continue
				}
			}
			return true
		}
	}
	return false
}

func hex4[T string | []byte](s T, at int) (rune, bool) {
	if at+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[at : at+4]) {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// decodeMessage explains a decode error by where and what, never by the bytes it found.
func decodeMessage(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("The request body is not valid JSON (at byte %d).", syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		// Field is one of RawParams' own (query, operationName, variables, extensions), not the client's text.
		return fmt.Sprintf("The request body's %s has the wrong type: expected {\"query\": string, \"operationName\": string, \"variables\": object}.", typ.Field)
	case errors.Is(err, io.EOF):
		return "The request body is empty: expected {\"query\": ...}."
	default:
		return "The request body is not a GraphQL request: expected {\"query\": string, \"variables\": object}."
	}
}

// queryText refuses a query whose string literals escape a lone surrogate: gqlparser writes "\ud800" as U+FFFD.
// It is an operation-parameter mutator, so it runs for every transport, WebSocket included.
type queryText struct{}

var (
	_ graphql.HandlerExtension          = queryText{}
	_ graphql.OperationParameterMutator = queryText{}
)

func (queryText) ExtensionName() string                   { return "QueryText" }
func (queryText) Validate(graphql.ExecutableSchema) error { return nil }

func (queryText) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	// Most queries have no \u at all: the scan below is for the few that do.
	if !strings.Contains(p.Query, `\u`) || !stringLiteralSurrogate(p.Query) {
		return nil
	}
	err := gqlerror.Errorf(`The query has a lone UTF-16 surrogate escape (\ud800 to \udfff not in a high-low pair) in a string.`)
	err.Extensions = map[string]any{"code": "BAD_USER_INPUT"}
	return err
}

// stringLiteralSurrogate reports whether one of q's "strings" escapes a lone surrogate. Comments and block
// strings ("""...""") are skipped: escapes mean nothing there.
func stringLiteralSurrogate(q string) bool {
	for i := 0; i < len(q); i++ {
		switch {
		case q[i] == '#':
			for i < len(q) && q[i] != '\n' && q[i] != '\r' {
				i++
			}
		case strings.HasPrefix(q[i:], `"""`):
			i += 3
			for i < len(q) && !strings.HasPrefix(q[i:], `"""`) {
				if strings.HasPrefix(q[i:], `\"""`) {
					i += 3
				}
				i++
			}
			i += 2
		case q[i] == '"':
			end := i + 1
			for end < len(q) && q[end] != '"' && q[end] != '\n' {
				if q[end] == '\\' {
					end++
				}
				end++
			}
			if loneSurrogate(q[i+1 : min(end, len(q))]) {
				return true
			}
			i = end
		}
	}
	return false
}

// checkedWebsocket refuses a WebSocket message that is not valid UTF-8 or escapes a lone surrogate, as postJSON
// does a body: it closes the connection with 1007 (RFC 6455's "inconsistent data"), the message unread.
type checkedWebsocket struct {
	transport.WebsocketImplementation
}

func (c checkedWebsocket) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := c.WebsocketImplementation.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	return &checkedConn{innerConn{conn}}, nil
}

// checkedConn keeps the optional read limit and deadline of the connection it wraps: gqlgen enforces
// PayloadReadLimit and pongs only through them.
type checkedConn struct{ innerConn }

const closeInvalidPayload = 1007

func (c *checkedConn) NextReader() (int, io.Reader, error) {
	kind, r, err := c.WebsocketConn.NextReader()
	if err != nil {
		return kind, r, err
	}
	msg, err := io.ReadAll(r)
	if err != nil {
		return kind, nil, err
	}
	if problem := checkText(msg); problem != "" {
		_ = c.WriteClose(closeInvalidPayload, "the message "+problem)
		return kind, nil, errors.New("websocket message " + problem)
	}
	return kind, bytes.NewReader(msg), nil
}
