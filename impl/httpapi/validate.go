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
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// validator checks requests against openapi.yaml: the body's size and media type, then kin-openapi's validation of
// parameters and body.
type validator struct {
	options *openapi3filter.Options
}

func newValidator() *validator {
	return &validator{
		options: &openapi3filter.Options{
			MultiError: true,
			// The gate has authenticated the request already (see authn.go).
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				openapi3.EnableFormatValidation(),
				openapi3.WithStringFormatValidator("uuid", openapi3.NewCallbackValidator(validateUUID)),
				openapi3.WithStringFormatValidator("email", openapi3.NewCallbackValidator(validateEmail)),
			},
		},
	}
}

// validateEmail accepts a bare RFC 5322 address, the same rule the service applies.
// validateUUID accepts what RFC 9562 calls a UUID in its hyphenated form: versions 1 to 8 of the RFC's variant,
// the nil UUID and the max UUID (kin-openapi's FormatOfStringForUUIDOfRFC9562, without a regular expression, which
// cost 3% of a by-id read's CPU).
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
	if s == "00000000-0000-0000-0000-000000000000" || strings.EqualFold(s, "ffffffff-ffff-ffff-ffff-ffffffffffff") {
		return nil
	}
	if s[14] < '1' || s[14] > '8' || !strings.ContainsRune("89abAB", rune(s[19])) {
		return errNotUUID
	}
	return nil
}

var errNotUUID = errors.New("must be a UUID")

func validateEmail(s string) error {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return errors.New("must be a valid email address")
	}
	return nil
}

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
	if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
		// net/http silently drops what it cannot parse (a ";" for one); refuse instead of guessing.
		errs.write(w, r, http.StatusBadRequest, "The request is invalid.", map[string][]string{"query": {"is not a well-formed query string"}})
		return false
	}
	err := openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: pathParams,
		Route:      route,
		Options:    v.options,
	})
	if err != nil {
		reject(w, r, err, errs)
		return false
	}
	return true
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
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		errs.write(w, r, http.StatusRequestTimeout, "The request was not read in time.", nil)
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
