package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/junction-dev/junction/impl/ecma262"
)

// validator checks requests against openapi.yaml: the body's size, media type and encoding, then kin-openapi's
// validation of parameters and body, with the meaning JSON Schema gives the spec's keywords: patterns are ECMA-262
// (impl/ecma262) and formats are checked as JSON Schema defines them.
type validator struct {
	options *openapi3filter.Options
	// booleans are each operation's boolean query parameters, which must be exactly true or false.
	booleans map[*openapi3.Operation][]string
	// routes are what kin-openapi validates for each operation: the operation with its parameters and body but no
	// security requirement. The gate has authenticated the request already, and kin-openapi would only call a
	// no-op for it, after copying the body once more; what it could still refuse, a scheme that the document
	// does not declare, compileRules refuses at start-up.
	routes map[*openapi3.Operation]*routers.Route
}

func newValidator(doc *openapi3.T) *validator {
	booleans := map[*openapi3.Operation][]string{}
	routes := map[*openapi3.Operation]*routers.Route{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			unsecured := *op
			unsecured.Security = &openapi3.SecurityRequirements{}
			routes[op] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: &unsecured}
			for _, p := range append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...) {
				if p.Value != nil && p.Value.In == openapi3.ParameterInQuery && p.Value.Schema != nil &&
					p.Value.Schema.Value != nil && p.Value.Schema.Value.Type.Is(openapi3.TypeBoolean) {
					booleans[op] = append(booleans[op], p.Value.Name)
				}
			}
		}
	}
	return &validator{
		booleans: booleans,
		routes:   routes,
		options: &openapi3filter.Options{
			MultiError: true,
			// The gate has authenticated the request already (see authn.go).
			AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
			SchemaValidationOptions: SchemaValidationOptions(),
		},
	}
}

// SchemaValidationOptions make kin-openapi validate values as JSON Schema says: ECMA-262 patterns, and the uuid
// and email formats as JSON Schema defines them. Tests that validate responses use them too.
func SchemaValidationOptions() []openapi3.SchemaValidationOption {
	// One map of formats, made here once: WithStringFormatValidator would make a map on every value validated
	// (kin-openapi applies the options per value), 2% of a by-id read's allocations. kin-openapi only reads it.
	formats := map[string]openapi3.StringFormatValidator{
		"uuid":  openapi3.NewCallbackValidator(validateUUID),
		"email": openapi3.NewCallbackValidator(validateEmail),
	}
	return []openapi3.SchemaValidationOption{
		openapi3.EnableFormatValidation(),
		openapi3.SetSchemaRegexCompiler(func(expr string) (openapi3.RegexMatcher, error) { return ecma262.Compile(expr) }),
		openapi3.WithStringFormatValidators(formats),
	}
}

// validateUUID accepts what JSON Schema's uuid format is, RFC 4122's hyphenated string form: 32 hex digits in
// groups of 8-4-4-4-12, of any version and variant (the version and variant are the generator's business; an id
// that names no row is a 404, not a malformed request). It is written without a regular expression, which cost
// 3% of a by-id read's CPU.
func validateUUID(s string) error {
	if len(s) != 36 {
		return errNotUUID
	}
	for i := range len(s) {
		switch c := s[i]; {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return errNotUUID
			}
		case !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'):
			return errNotUUID
		}
	}
	return nil
}

var errNotUUID = errors.New("must be a UUID")

// validateEmail accepts what JSON Schema's email format is, an RFC 5321 Mailbox (ASCII; non-ASCII addresses are
// idn-email's): a dot-atom or quoted local part, then a domain or an address literal. Schemas narrow it further
// with a pattern (openapi.yaml's Email).
func validateEmail(s string) error {
	m := mailbox.FindStringSubmatch(s)
	if m == nil {
		return errNotEmail
	}
	if literal := m[1]; literal != "" {
		if v6, ok := strings.CutPrefix(literal, "IPv6:"); ok {
			if a, err := netip.ParseAddr(v6); err != nil || !a.Is6() || a.Zone() != "" {
				return errNotEmail
			}
		} else if !strings.Contains(literal, ":") {
			if a, err := netip.ParseAddr(literal); err != nil || !a.Is4() {
				return errNotEmail
			}
		}
	}
	return nil
}

var (
	errNotEmail = errors.New("must be a valid email address")
	// RFC 5321 section 4.1.2: Mailbox = Local-part "@" ( Domain / address-literal ).
	mailbox = regexp.MustCompile(`^(?:` +
		"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*" + // Dot-string
		`|"(?:[\x20\x21\x23-\x5B\x5D-\x7E]|\\[\x20-\x7E])*"` + // Quoted-string
		`)@(?:` +
		`[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*` + // Domain
		`|\[((?:[A-Za-z0-9-]*[A-Za-z0-9]:)?[\x21-\x5A\x5E-\x7E]+)\]` + // address-literal
		`)$`)
)

// readBody reads the body of an operation that takes one: at most its limit, of a media type it declares. It
// parses nothing, so that a signature can be checked over the raw bytes first. The body is put back for the
// decoders downstream.
func (v *validator) readBody(w http.ResponseWriter, r *http.Request, op *openapi3.Operation, rules opRules, errs errorWriter) ([]byte, bool) {
	rb := op.RequestBody
	if rb == nil || rb.Value == nil {
		return nil, true
	}
	if r.ContentLength > rules.bodyLimit {
		tooLarge(w, r, rules.bodyLimit, errs)
		return nil, false
	}
	if !v.acceptsContentType(r, rb.Value) {
		errs.write(w, r, http.StatusUnsupportedMediaType, "The request body must be application/json.", nil)
		return nil, false
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rules.bodyLimit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			tooLarge(w, r, rules.bodyLimit, errs)
		} else {
			errs.write(w, r, http.StatusBadRequest, "The request body could not be read.", nil)
		}
		return nil, false
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	r.ContentLength = int64(len(data))
	return data, true
}

// check validates r for route, answering and returning false when it fails. body is what readBody read.
func (v *validator) check(w http.ResponseWriter, r *http.Request, route *routers.Route, pathParams map[string]string, body []byte, errs errorWriter) bool {
	// The decoders downstream stop after the first JSON value and would accept trailing garbage.
	if len(body) > 0 && !json.Valid(body) {
		errs.write(w, r, http.StatusBadRequest, "The request is invalid.", map[string][]string{"body": {"must be well-formed JSON"}})
		return false
	}
	// encoding/json replaces invalid UTF-8 and unpaired surrogate escapes with U+FFFD: the text stored would not be
	// the text sent. RFC 8259 requires UTF-8, and an unpaired surrogate is no Unicode character.
	if !utf8.Valid(body) {
		errs.write(w, r, http.StatusBadRequest, "The request is invalid.", map[string][]string{"body": {"must be UTF-8"}})
		return false
	}
	if hasUnpairedSurrogate(body) {
		errs.write(w, r, http.StatusBadRequest, "The request is invalid.", map[string][]string{"body": {"must not escape unpaired UTF-16 surrogates"}})
		return false
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		// net/http silently drops what it cannot parse (a ";" for one); refuse instead of guessing.
		errs.write(w, r, http.StatusBadRequest, "The request is invalid.", map[string][]string{"query": {"is not a well-formed query string"}})
		return false
	}
	// kin-openapi and the generated binder parse booleans with strconv.ParseBool, which takes 1, t, TRUE and more;
	// a JSON Schema boolean in a query string is true or false.
	fields := map[string][]string{}
	for _, name := range v.booleans[route.Operation] {
		for _, val := range query[name] {
			if val != "true" && val != "false" {
				fields[name] = append(fields[name], fmt.Sprintf("%q is not a valid value: must be true or false", val))
			}
		}
	}
	if len(fields) > 0 {
		errs.write(w, r, http.StatusBadRequest, "The request is invalid.", fields)
		return false
	}
	err = openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: pathParams,
		// The query as parsed above (kin-openapi would parse it again, the same way: it is well-formed).
		QueryParams: query,
		Route:       v.routes[route.Operation],
		Options:     v.options,
	})
	if err != nil {
		reject(w, r, err, errs)
		return false
	}
	return true
}

// hasUnpairedSurrogate reports whether well-formed JSON escapes a UTF-16 surrogate that is not half of a pair
// (a high one followed by a low one). Backslashes occur only inside strings in valid JSON, so no state is needed.
func hasUnpairedSurrogate(body []byte) bool {
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		if body[i+1] != 'u' {
			i++ // an escaped character: skip it, so that \\u is not read as an escape
			continue
		}
		r := hex4(body[i+2 : i+6])
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if i+12 > len(body) || body[i+6] != '\\' || body[i+7] != 'u' {
				return true
			}
			if lo := hex4(body[i+8 : i+12]); lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		default:
			i += 5
		}
	}
	return false
}

// hex4 decodes four hex digits, which json.Valid has already checked.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		default:
			r |= rune(c-'A') + 10
		}
	}
	return r
}

func tooLarge(w http.ResponseWriter, r *http.Request, limit int64, errs errorWriter) {
	errs.write(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body must be at most %d bytes.", limit), nil)
}

// acceptsContentType reports whether the request's body has a media type the operation declares. A request with
// no body and no Content-Type passes, so that validation can say the body is required.
func (v *validator) acceptsContentType(r *http.Request, body *openapi3.RequestBody) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return r.ContentLength == 0
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return body.Content.Get(mt) != nil
}

// reject answers a request that failed validation with 400 and messages by field.
func reject(w http.ResponseWriter, r *http.Request, err error, errs errorWriter) {
	switch {
	case errors.Is(err, context.Canceled):
		// The client went away (errorWriter.service does the same): nobody reads an answer.
		w.WriteHeader(statusClientClosedRequest)
		return
	case errors.Is(err, context.DeadlineExceeded):
		// The request's deadline passed while it was validated: the server could not keep up, a documented 503.
		w.Header().Set("Retry-After", "1")
		errs.write(w, r, http.StatusServiceUnavailable, "The request could not be handled in time; retry shortly.", nil)
		return
	}
	fields := map[string][]string{}
	collectFieldErrors(err, fields)
	for k, msgs := range fields {
		sort.Strings(msgs)
		fields[k] = dedupe(msgs)
	}
	errs.write(w, r, http.StatusBadRequest, "The request is invalid.", fields)
}

// collectFieldErrors flattens kin-openapi's nested errors into messages keyed by JSON field name: body fields by
// their path (e.g. "name", "address.city"), parameters by their name, and anything about the body as a whole
// under "body".
func collectFieldErrors(err error, fields map[string][]string) {
	// Match the outer layers by type, not errors.As: a RequestError unwraps to a MultiError of its own.
	var reqErr *openapi3filter.RequestError
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, inner := range e {
			collectFieldErrors(inner, fields)
		}
		return
	case *openapi3filter.RequestError:
		reqErr = e
	default:
		if !errors.As(err, &reqErr) {
			fields["request"] = append(fields["request"], err.Error())
			return
		}
	}
	switch {
	case reqErr.Parameter != nil:
		name := reqErr.Parameter.Name
		var schemaErrs openapi3.MultiError
		var schemaErr *openapi3.SchemaError
		switch {
		case errors.As(reqErr.Err, &schemaErrs):
			for _, e := range schemaErrs {
				fields[name] = append(fields[name], schemaMessage(e))
			}
		case errors.As(reqErr.Err, &schemaErr):
			fields[name] = append(fields[name], schemaMessage(schemaErr))
		case reqErr.Err != nil:
			fields[name] = append(fields[name], parameterMessage(reqErr))
		default:
			fields[name] = append(fields[name], reqErr.Reason)
		}
	case reqErr.RequestBody != nil:
		collectBodyErrors(reqErr, fields)
	default:
		fields["request"] = append(fields["request"], reqErr.Error())
	}
}

func collectBodyErrors(reqErr *openapi3filter.RequestError, fields map[string][]string) {
	var schemaErrs openapi3.MultiError
	var schemaErr *openapi3.SchemaError
	var parseErr *openapi3filter.ParseError
	switch {
	case errors.Is(reqErr.Err, openapi3filter.ErrInvalidRequired):
		fields["body"] = append(fields["body"], "is required")
	case errors.As(reqErr.Err, &schemaErrs):
		for _, e := range schemaErrs {
			var se *openapi3.SchemaError
			if errors.As(e, &se) {
				addSchemaError(se, fields)
			} else {
				fields["body"] = append(fields["body"], e.Error())
			}
		}
	case errors.As(reqErr.Err, &schemaErr):
		addSchemaError(schemaErr, fields)
	case errors.As(reqErr.Err, &parseErr):
		fields["body"] = append(fields["body"], "must be well-formed JSON")
	default:
		fields["body"] = append(fields["body"], "could not be read")
	}
}

func addSchemaError(se *openapi3.SchemaError, fields map[string][]string) {
	path := se.JSONPointer()
	msg := schemaMessage(se)
	// Unknown and missing properties are reported on their parent object; name the property itself instead.
	if m := unsupportedProperty.FindStringSubmatch(se.Reason); m != nil {
		path = append(path, m[1])
		msg = "is not a known field"
	} else if m := missingProperty.FindStringSubmatch(se.Reason); m != nil {
		if len(path) == 0 || path[len(path)-1] != m[1] {
			path = append(path, m[1])
		}
		msg = "is required"
	}
	field := strings.Join(path, ".")
	if field == "" {
		field = "body"
	}
	fields[field] = append(fields[field], msg)
}

var (
	unsupportedProperty = regexp.MustCompile(`^property "(.*)" is unsupported$`)
	missingProperty     = regexp.MustCompile(`^property "(.*)" is missing$`)
)

func schemaMessage(err error) string {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		switch {
		case se.SchemaField == "pattern" && se.Schema != nil && se.Schema.Format != "":
			// The pattern narrows the format (Email): to the client both say the same thing.
			return "must be a valid " + se.Schema.Format
		case se.SchemaField == "pattern" && se.Schema != nil && se.Schema.Description != "":
			return "must be " + strings.TrimSuffix(lowerFirst(se.Schema.Description), ".")
		case se.SchemaField == "format" && se.Schema != nil:
			return "must be a valid " + se.Schema.Format
		}
		return se.Reason
	}
	return err.Error()
}

func parameterMessage(reqErr *openapi3filter.RequestError) string {
	var parseErr *openapi3filter.ParseError
	if errors.As(reqErr.Err, &parseErr) {
		return fmt.Sprintf("%q is not a valid value", fmt.Sprint(parseErr.Value))
	}
	return reqErr.Err.Error()
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}
