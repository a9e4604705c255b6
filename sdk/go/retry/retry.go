// Package retry is the Go SDK's safe retries: a [Transport] for the generated client (gen/api) that retries what
// a real network loses, and only what is safe to send twice.
//
//	client, err := api.NewClientWithResponses(url, api.WithHTTPClient(&http.Client{Transport: retry.New(nil)}))
//
// It retries a connection error, a 429, a 503, and the 409 of a request whose Idempotency-Key is still running,
// waiting at least what Retry-After says, otherwise exponentially longer with full jitter, within Attempts and a
// total Deadline. GET, HEAD, PUT, DELETE and OPTIONS are retried; POST and PATCH only where the contract takes an
// Idempotency-Key, which Transport adds (a UUIDv7: random, and filed by the server under its time, which keeps
// its index of keys growing at one end) unless the caller set one, and sends again unchanged on
// every retry: the server then answers a retry of a request that did reach it with its first answer. A POST or
// PATCH elsewhere is retried when the caller gave it a key of its own, as for a GraphQL mutation.
//
// Conditional requests need nothing of this package: the generated client takes If-Match and If-None-Match as
// parameters, and each answer's ETag is in its HTTPResponse.Header. A retried PATCH with If-Match keeps its key,
// so a lost answer comes back as the first 200, not as a 412 against the version that write made. A PUT takes no
// key: retried after its answer was lost, it finds its change made, which the server answers 200 (RFC 9110,
// section 13.1.1). A DELETE retried so answers 404: the resource is gone, whoever deleted it.
package retry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/junction-dev/junction/gen/api"
)

// KeyHeader is the request header of draft-ietf-httpapi-idempotency-key-header.
const KeyHeader = "Idempotency-Key"

// Transport retries requests; its zero value is not usable: build it with [New].
type Transport struct {
	// Base sends each attempt; nil is http.DefaultTransport.
	Base http.RoundTripper
	// Attempts is the most tries of one request, the first included (default 3).
	Attempts int
	// Deadline bounds one request's tries and waits together (default 30 s); the request's own context may end
	// them sooner.
	Deadline time.Duration
	// BaseDelay and MaxDelay shape the backoff: before retry n a random wait in [0, min(MaxDelay, BaseDelay·2ⁿ)]
	// (defaults 200 ms and 5 s).
	BaseDelay, MaxDelay time.Duration

	keyed  []route
	sleep  func(context.Context, time.Duration) error
	jitter func(time.Duration) time.Duration
}

// route is an operation of the contract that takes an Idempotency-Key.
type route struct {
	method string
	path   *regexp.Regexp
}

// New returns a Transport over base (nil: http.DefaultTransport) with the defaults, knowing from the embedded
// contract which POST and PATCH operations take an Idempotency-Key.
func New(base http.RoundTripper) *Transport {
	t := &Transport{Base: base, Attempts: 3, Deadline: 30 * time.Second, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second}
	t.keyed = keyedRoutes()
	t.sleep = sleepCtx
	t.jitter = func(d time.Duration) time.Duration { return time.Duration(rand.Int64N(int64(d) + 1)) }
	return t
}

// keyedRoutes are the contract's operations that declare the Idempotency-Key header.
func keyedRoutes() []route {
	doc, err := api.GetSpec()
	if err != nil {
		panic(fmt.Sprintf("retry: the embedded contract: %v", err)) // built into the binary: cannot fail at run time
	}
	var out []route
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if takesKey(op) {
				out = append(out, route{method: method, path: template(path)})
			}
		}
	}
	return out
}

func takesKey(op *openapi3.Operation) bool {
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == openapi3.ParameterInHeader && http.CanonicalHeaderKey(p.Value.Name) == KeyHeader {
			return true
		}
	}
	return false
}

var pathParam = regexp.MustCompile(`\\\{[^/]+\\\}`)

// template matches the paths of a path template: each {param} is one segment.
func template(path string) *regexp.Regexp {
	return regexp.MustCompile("^" + pathParam.ReplaceAllString(regexp.QuoteMeta(path), "[^/]+") + "$")
}

// takesKey reports whether req is a POST or PATCH to an operation that takes an Idempotency-Key.
func (t *Transport) takesKey(req *http.Request) bool {
	for _, r := range t.keyed {
		if r.method == req.Method && r.path.MatchString(req.URL.Path) {
			return true
		}
	}
	return false
}

// RoundTrip sends req, retrying as the package says. It does not change req: a key it adds is on its copies.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	retriable := false
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		retriable = true
	case http.MethodPost, http.MethodPatch:
		switch {
		case t.takesKey(req):
			retriable = true
			if req.Header.Get(KeyHeader) == "" {
				req = req.Clone(req.Context())
				key, err := uuid.NewV7()
				if err != nil {
					return nil, fmt.Errorf("retry: make an Idempotency-Key: %w", err)
				}
				req.Header.Set(KeyHeader, key.String())
			}
		case req.Header.Get(KeyHeader) != "":
			// The caller's own key on a route the contract does not list (a GraphQL mutation): the caller says
			// the server takes it there.
			retriable = true
		}
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if !retriable || t.Attempts <= 1 {
		return base.RoundTrip(req)
	}
	body, err := replayable(req)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(t.Deadline)
	for attempt := 0; ; attempt++ {
		try := req.Clone(req.Context())
		if body != nil {
			try.Body, try.GetBody = body()
		}
		resp, err := base.RoundTrip(try)
		wait, again := t.verdict(req, resp, err)
		if !again || attempt+1 >= t.Attempts {
			return resp, err
		}
		if backoff := t.jitter(min(t.MaxDelay, t.BaseDelay<<attempt)); backoff > wait {
			wait = backoff
		}
		if time.Now().Add(wait).After(deadline) {
			return resp, err // no time for another try: the last answer is the caller's
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if serr := t.sleep(req.Context(), wait); serr != nil {
			return nil, serr
		}
	}
}

// verdict says whether an attempt's outcome is retried, and the least wait the server asked for.
func (t *Transport) verdict(req *http.Request, resp *http.Response, err error) (time.Duration, bool) {
	if err != nil {
		// A connection error, unless the caller gave up (its context), which no retry mends.
		return 0, req.Context().Err() == nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return retryAfter(resp.Header.Get("Retry-After")), true
	case http.StatusConflict:
		// Only the 409 of a key still running says Retry-After; an email already taken does not.
		if req.Header.Get(KeyHeader) != "" && resp.Header.Get("Retry-After") != "" {
			return retryAfter(resp.Header.Get("Retry-After")), true
		}
	}
	return 0, false
}

// retryAfter reads delay-seconds or an HTTP date; zero when absent or unreadable.
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0)
	}
	return 0
}

// replayable returns what gives each try a fresh copy of req's body: req.GetBody when set (the generated client's
// bodies are), else the body read once into memory. Nil for no body.
func replayable(req *http.Request) (func() (io.ReadCloser, func() (io.ReadCloser, error)), error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	get := req.GetBody
	if get == nil {
		data, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("retry: read the request body: %w", err)
		}
		get = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	return func() (io.ReadCloser, func() (io.ReadCloser, error)) {
		b, err := get()
		if err != nil {
			b = io.NopCloser(errReader{err})
		}
		return b, get
	}, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func sleepCtx(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
