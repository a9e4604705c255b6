package retry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// HTTPError is an HTTP response status worth classifying: 429, 502, 503 and 504 are retryable, and RetryAfter
// carries the server's Retry-After.
type HTTPError struct {
	StatusCode int
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string { return "http status " + strconv.Itoa(e.StatusCode) }

// NewHTTPError returns the HTTPError for resp, reading its Retry-After (seconds or an HTTP date).
func NewHTTPError(resp *http.Response, now time.Time) *HTTPError {
	e := &HTTPError{StatusCode: resp.StatusCode}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			e.RetryAfter = time.Duration(secs) * time.Second
		} else if at, err := http.ParseTime(v); err == nil && at.After(now) {
			e.RetryAfter = at.Sub(now)
		}
	}
	return e
}

// Temporary lets an error say for itself that it is worth retrying.
type Temporary interface{ Temporary() bool }

// Retryable reports whether err is a failure that a later attempt may not meet: a reset or refused connection,
// a timeout, a DNS failure, a PostgreSQL connection error or one pgx says is safe to retry, an HTTP 429, 502, 503
// or 504, or an error that calls itself temporary. A cancelled context is never retryable.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var httpErr *HTTPError
	if errors.As(err, &httpErr) {
		switch httpErr.StatusCode {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTimeout || dnsErr.IsTemporary || dnsErr.IsNotFound
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01..03: the server is shutting down or starting. Anything else the
		// server said (a wrong password, a missing database, a constraint) will not change by retrying.
		return pgErr.Code[:2] == "08" || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || pgconn.SafeToRetry(err) {
		return true
	}
	var tmp Temporary
	return errors.As(err, &tmp) && tmp.Temporary()
}

// RetryAfter returns the delay a server asked for, if err carries one.
func RetryAfter(err error) (time.Duration, bool) {
	var httpErr *HTTPError
	if errors.As(err, &httpErr) && httpErr.RetryAfter > 0 {
		return httpErr.RetryAfter, true
	}
	return 0, false
}
