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

// bodyLimitExtension is where openapi.yaml states the request body limit, so the document and the server agree.
const bodyLimitExtension = "x-request-body-max-bytes"

// validator checks requests against openapi.yaml: body size and media type, then kin-openapi's validation of
// parameters and body. Security is checked by the gate before it, from the same document.
type validator struct {
	bodyLimit int64
	options   *openapi3filter.Options
	errs      errorWriter
}

func newValidator(doc *openapi3.T, errs errorWriter) (*validator, error) {
	limit, err := bodyLimit(doc)
	if err != nil {
		return nil, err
	}
	return &validator{
		bodyLimit: limit,
		errs:      errs,
		options: &openapi3filter.Options{
			MultiError: true,
			// The gate has authenticated the request already (see authn.go).
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				openapi3.EnableFormatValidation(),
				openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
				openapi3.WithStringFormatValidator("email", openapi3.NewCallbackValidator(validateEmail)),
			},
		},
	}, nil
}

func bodyLimit(doc *openapi3.T) (int64, error) {
	if doc.Info != nil {
		switch v := doc.Info.Extensions[bodyLimitExtension].(type) {
		case float64:
			if v > 0 {
				return int64(v), nil
			}
		case json.Number:
			if n, err := v.Int64(); err == nil && n > 0 {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("openapi.yaml: info.%s must be a positive number of bytes", bodyLimitExtension)
}

// validateEmail accepts a bare RFC 5322 address, the same rule the service applies.
func validateEmail(s string) error {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return errors.New("must be a valid email address")
	}
	return nil
}

// check validates r for route, answering and returning false when it fails.
func (v *validator) check(w http.ResponseWriter, r *http.Request, route *routers.Route, pathParams map[string]string) bool {
	if rb := route.Operation.RequestBody; rb != nil && rb.Value != nil {
		if r.ContentLength > v.bodyLimit {
			v.tooLarge(w, r)
			return false
		}
		if !v.acceptsContentType(r, rb.Value) {
			v.errs.write(w, r, http.StatusUnsupportedMediaType, "The request body must be application/json.", nil)
			return false
		}
		if !v.readJSONBody(w, r) {
			return false
		}
	}
	if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
		// net/http silently drops what it cannot parse (a ";" for one); refuse instead of guessing.
		v.errs.write(w, r, http.StatusBadRequest, "The request is invalid.", map[string][]string{"query": {"is not a well-formed query string"}})
		return false
	}
	err := openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: pathParams,
		Route:      route,
		Options:    v.options,
	})
	if err != nil {
		v.reject(w, r, err)
		return false
	}
	return true
}

// readJSONBody reads the body, at most bodyLimit bytes, and checks that it is exactly one JSON value: the
// decoders downstream stop after the first value and would accept trailing garbage. The body is put back for them.
func (v *validator) readJSONBody(w http.ResponseWriter, r *http.Request) bool {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, v.bodyLimit))
	if err != nil {
		v.reject(w, r, err)
		return false
	}
	if len(data) > 0 && !json.Valid(data) {
		v.errs.write(w, r, http.StatusBadRequest, "The request is invalid.", map[string][]string{"body": {"must be well-formed JSON"}})
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	r.ContentLength = int64(len(data))
	return true
}

func (v *validator) tooLarge(w http.ResponseWriter, r *http.Request) {
	v.errs.write(w, r, http.StatusRequestEntityTooLarge,
		fmt.Sprintf("The request body must be at most %d bytes.", v.bodyLimit), nil)
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

// reject answers a request that failed validation: 413 for an oversize body, otherwise 400 with messages by field.
func (v *validator) reject(w http.ResponseWriter, r *http.Request, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		v.tooLarge(w, r)
		return
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		v.errs.write(w, r, http.StatusRequestTimeout, "The request was not read in time.", nil)
		return
	}
	fields := map[string][]string{}
	collectFieldErrors(err, fields)
	for k, msgs := range fields {
		sort.Strings(msgs)
		fields[k] = dedupe(msgs)
	}
	v.errs.write(w, r, http.StatusBadRequest, "The request is invalid.", fields)
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
