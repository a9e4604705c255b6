package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// receiver is a loopback HTTP server that counts the requests and connections it gets.
type receiver struct {
	*httptest.Server
	requests atomic.Int32
	conns    atomic.Int32
}

func newReceiver(t *testing.T, h http.HandlerFunc) *receiver {
	t.Helper()
	rc := &receiver{}
	if h == nil {
		h = func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }
	}
	rc.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.requests.Add(1)
		h(w, r)
	}))
	rc.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			rc.conns.Add(1)
		}
	}
	rc.Start()
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) port() string {
	return fmt.Sprint(rc.Listener.Addr().(*net.TCPAddr).Port)
}

// flipResolver answers first with one list of addresses, then with another: a name rebound between save and send.
type flipResolver struct {
	first, then []netip.Addr
	calls       atomic.Int32
}

func (r *flipResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	if r.calls.Add(1) == 1 {
		return r.first, nil
	}
	return r.then, nil
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(`{"event":"x"}`))
	require.NoError(t, err)
	resp, err := c.Do(req)
	if err == nil {
		t.Cleanup(func() { resp.Body.Close() })
	}
	return resp, err
}

// A name that resolves to 127.0.0.1 is refused at save time and at connect time in production, and reaches a
// local receiver with AllowPrivate; a name that resolved to a public address when saved and to 127.0.0.1 when
// sent (DNS rebinding) passes the save-time check but is refused when dialled.
func TestClientChecksTheAddressAtConnectTime(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	url := "http://rebind.test:" + rc.port() + "/hook"
	tests := []struct {
		name     string
		policy   Policy
		resolver Resolver
		saveErr  error
		sendErr  error
	}{
		{"loopback name, production", Policy{}, resolverOf(map[string][]string{"rebind.test": {"127.0.0.1"}}), ErrForbiddenAddress, ErrForbiddenAddress},
		{"mapped loopback name, production", Policy{}, resolverOf(map[string][]string{"rebind.test": {"::ffff:127.0.0.1"}}), ErrForbiddenAddress, ErrForbiddenAddress},
		{"loopback name, AllowPrivate", Policy{AllowPrivate: true}, resolverOf(map[string][]string{"rebind.test": {"127.0.0.1"}}), nil, nil},
		{"rebound after saving, production", Policy{}, &flipResolver{first: addrs("93.184.216.34"), then: addrs("127.0.0.1")}, nil, ErrForbiddenAddress},
		{"rebound to public plus loopback", Policy{}, &flipResolver{first: addrs("93.184.216.34"), then: addrs("93.184.216.34", "127.0.0.1")}, nil, ErrForbiddenAddress},
		{"rebound to metadata, AllowPrivate", Policy{AllowPrivate: true}, &flipResolver{first: addrs("127.0.0.1"), then: addrs("169.254.169.254")}, nil, ErrForbiddenAddress},
		{"rebound after saving, AllowPrivate", Policy{AllowPrivate: true}, &flipResolver{first: addrs("93.184.216.34"), then: addrs("127.0.0.1")}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := rc.requests.Load()
			err := CheckURL(context.Background(), url, tt.policy, tt.resolver)
			if tt.saveErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.saveErr)
			}

			resp, err := get(t, NewClientWithResolver(tt.policy, time.Second, 5*time.Second, 0, tt.resolver), url)
			if tt.sendErr == nil {
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				require.Equal(t, before+1, rc.requests.Load())
				return
			}
			require.ErrorIs(t, err, tt.sendErr)
			require.Contains(t, err.Error(), "rebind.test resolved at connect time to")
			require.NotContains(t, strings.ReplaceAll(err.Error(), url, ""), "127.0.0.1", "the address is not echoed")
			require.Equal(t, before, rc.requests.Load(), "the receiver got nothing")
		})
	}
}

// With net.DefaultResolver, which reads /etc/hosts: localhost is refused when sent, as when saved.
func TestClientRefusesLocalhostWithTheSystemResolver(t *testing.T) {
	t.Parallel()
	if _, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", "localhost"); err != nil {
		t.Skipf("localhost does not resolve here: %v", err)
	}
	rc := newReceiver(t, nil)
	url := "http://localhost:" + rc.port() + "/"
	require.ErrorIs(t, CheckURL(context.Background(), url, Policy{}, nil), ErrForbiddenAddress)
	_, err := get(t, NewClient(Policy{}, time.Second, 5*time.Second, 0), url)
	require.ErrorIs(t, err, ErrForbiddenAddress)
	require.Contains(t, err.Error(), "localhost resolved at connect time to a loopback address")
	resp, err := get(t, NewClient(Policy{AllowPrivate: true}, time.Second, 5*time.Second, 0), url)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.EqualValues(t, 1, rc.requests.Load())
}

func TestClientChecksIPLiterals(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	tests := []struct {
		host   string
		policy Policy
		want   error
	}{
		{"127.0.0.1", Policy{}, ErrForbiddenAddress},
		{"[::ffff:127.0.0.1]", Policy{}, ErrForbiddenAddress},
		{"127.0.0.1", Policy{AllowPrivate: true}, nil},
		{"[::ffff:127.0.0.1]", Policy{AllowPrivate: true}, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %+v", tt.host, tt.policy), func(t *testing.T) {
			resp, err := get(t, NewClient(tt.policy, time.Second, 5*time.Second, 0), "http://"+tt.host+":"+rc.port()+"/")
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
				return
			}
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
}

// The socket's ControlContext refuses on its own, whatever came before it: here the dialer is handed an address
// directly, past the lookup's check. No TCP connection is made at all.
func TestControlRefusesTheDialledAddress(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var accepted atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()

	for _, tt := range []struct {
		policy Policy
		ok     bool
	}{{Policy{}, false}, {Policy{AllowPrivate: true}, true}} {
		d := &dialer{policy: tt.policy}
		d.net = net.Dialer{ControlContext: d.control}
		c, err := d.net.DialContext(context.Background(), "tcp", ln.Addr().String())
		if tt.ok {
			require.NoError(t, err)
			c.Close()
			continue
		}
		require.ErrorIs(t, err, ErrForbiddenAddress)
		require.Contains(t, err.Error(), "connecting to a loopback address")
	}
	ln.Close()
	<-done
	require.EqualValues(t, 1, accepted.Load(), "only the allowed dial connected")
}

// A name's addresses are tried in turn: the first refuses the connection, the second answers.
func TestClientTriesEachAddress(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	// The receiver listens on 127.0.0.1 only, so 127.0.0.2 (loopback too on Linux) refuses that port.
	r := resolverOf(map[string][]string{"two.test": {"127.0.0.2", "127.0.0.1"}})
	resp, err := get(t, NewClientWithResolver(Policy{AllowPrivate: true}, 2*time.Second, 5*time.Second, 0, r), "http://two.test:"+rc.port()+"/")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var followed atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/target", func(w http.ResponseWriter, _ *http.Request) { followed.Add(1) })
	mux.HandleFunc("/{code}", func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscan(r.PathValue("code"), &code)
		http.Redirect(w, r, "/target", code)
	})
	rc := newReceiver(t, mux.ServeHTTP)
	c := NewClient(Policy{AllowPrivate: true}, time.Second, 5*time.Second, 0)
	for _, code := range []int{301, 302, 303, 307, 308} {
		resp, err := get(t, c, fmt.Sprintf("%s/%d", rc.URL, code))
		require.NoError(t, err)
		require.Equal(t, code, resp.StatusCode)
		require.Equal(t, "/target", resp.Header.Get("Location"))
	}
	require.Zero(t, followed.Load())
}

func TestClientTotalTimeout(t *testing.T) {
	t.Parallel()
	const total = 300 * time.Millisecond
	tests := []struct {
		name     string
		flushing bool
	}{
		{"no response", false},
		{"headers, then a body that never ends", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{}) // the handler hangs until the test ends; then rc.Close can return
			rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.flushing {
					io.WriteString(w, "partial")
					w.(http.Flusher).Flush()
				}
				<-release
			})
			t.Cleanup(func() { close(release) }) // before rc.Close
			start := time.Now()
			resp, err := get(t, NewClient(Policy{AllowPrivate: true}, time.Second, total, 0), rc.URL)
			if err == nil {
				_, err = ReadLimited(resp.Body, 1<<10)
			}
			elapsed := time.Since(start)
			var ne net.Error
			require.True(t, errors.As(err, &ne) && ne.Timeout(), "a timeout, got %v", err)
			require.GreaterOrEqual(t, elapsed, total-10*time.Millisecond)
			require.Less(t, elapsed, total+2*time.Second)
		})
	}
}

func TestClientRequireHTTPS(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	body := &closeRecorder{Reader: strings.NewReader("{}")}
	req, err := http.NewRequest(http.MethodPost, rc.URL, body)
	require.NoError(t, err)
	_, err = NewClient(Policy{AllowPrivate: true, RequireHTTPS: true}, time.Second, 5*time.Second, 0).Do(req)
	require.ErrorIs(t, err, ErrInvalidURL)
	require.Contains(t, err.Error(), "must use https")
	require.True(t, body.closed.Load(), "the request body is closed, as RoundTrip must")
	require.Zero(t, rc.conns.Load(), "nothing was dialled")
}

type closeRecorder struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeRecorder) Close() error { c.closed.Store(true); return nil }

// TLS verifies against the system's roots (httptest's certificate is not among them) and refuses TLS 1.1.
func TestClientTLS(t *testing.T) {
	t.Parallel()
	c := NewClient(Policy{AllowPrivate: true, RequireHTTPS: true}, time.Second, 5*time.Second, 0)

	untrusted := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(untrusted.Close)
	untrusted.Config.ErrorLog = discardLog()
	_, err := get(t, c, untrusted.URL)
	var unknown x509.UnknownAuthorityError
	require.ErrorAs(t, err, &unknown)

	old := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	old.TLS = &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	old.Config.ErrorLog = discardLog()
	old.StartTLS()
	t.Cleanup(old.Close)
	_, err = get(t, c, old.URL)
	require.Error(t, err)
	require.Contains(t, err.Error(), "protocol version")
}

func TestClientSettings(t *testing.T) {
	t.Parallel()
	c := NewClient(Policy{}, 0, 0, 0)
	require.Equal(t, DefaultTotalTimeout, c.Timeout)
	require.ErrorIs(t, c.CheckRedirect(nil, nil), http.ErrUseLastResponse)
	tr := c.Transport.(*transport).base
	require.Nil(t, tr.Proxy, "no proxy from the environment")
	require.Equal(t, uint16(tls.VersionTLS12), tr.TLSClientConfig.MinVersion)
	require.Nil(t, tr.TLSClientConfig.RootCAs, "the system's roots")
	require.False(t, tr.TLSClientConfig.InsecureSkipVerify)
	require.Equal(t, DefaultConnectTimeout, tr.TLSHandshakeTimeout)
	require.False(t, tr.DisableKeepAlives)
	require.Equal(t, 64, tr.MaxIdleConnsPerHost)
	require.Positive(t, tr.IdleConnTimeout)
	c.CloseIdleConnections() // reaches the pool through the wrapper
	// A sender of 100 attempts at once keeps all their connections to one receiver, rather than closing and
	// dialling again the ones above the idle bound on every exchange.
	busy := NewClient(Policy{}, 0, 0, 100).Transport.(*transport).base
	require.Equal(t, 100, busy.MaxIdleConnsPerHost)
	require.GreaterOrEqual(t, busy.MaxIdleConns, busy.MaxIdleConnsPerHost)
}

// A body that ends within the limit is read to its end and its connection reused; a longer one is cut at the limit
// and its connection closed.
func TestReadLimitedAndConnectionReuse(t *testing.T) {
	t.Parallel()
	const limit = 1 << 10
	tests := []struct {
		name      string
		size      int
		wantConns int32
	}{
		{"empty", 0, 1},
		{"small", 2, 1},
		{"exactly the limit", limit, 1},
		{"over the limit", limit + 1, 2},
		{"far over the limit", 1 << 20, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := bytes.Repeat([]byte("x"), tt.size)
			rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) { w.Write(body) })
			c := NewClient(Policy{AllowPrivate: true}, time.Second, 5*time.Second, 0)
			for range 2 {
				resp, err := get(t, c, rc.URL)
				require.NoError(t, err)
				got, err := ReadLimited(resp.Body, limit)
				require.NoError(t, err)
				require.Equal(t, body[:min(tt.size, limit)], got)
				resp.Body.Close()
			}
			require.Equal(t, tt.wantConns, rc.conns.Load())
		})
	}
}

func TestReadLimited(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	tests := []struct {
		name    string
		r       io.Reader
		n       int
		want    string
		wantErr error
	}{
		{"shorter", strings.NewReader("abc"), 10, "abc", nil},
		{"exact", strings.NewReader("abcdefghij"), 10, "abcdefghij", nil},
		{"longer", strings.NewReader("abcdefghijkl"), 10, "abcdefghij", nil},
		{"zero", strings.NewReader("abc"), 0, "", nil},
		{"error after some bytes", io.MultiReader(strings.NewReader("ab"), errReader{boom}), 10, "ab", boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr := &countingReader{r: tt.r}
			got, err := ReadLimited(cr, tt.n)
			require.ErrorIs(t, err, tt.wantErr)
			require.Equal(t, tt.want, string(got))
			require.LessOrEqual(t, cr.n, tt.n, "never reads past n")
		})
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestPartialDeadline(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		remaining time.Duration
		left      int
		want      time.Duration
	}{
		{10 * time.Second, 2, 5 * time.Second},
		{5 * time.Second, 5, 2 * time.Second}, // the floor
		{time.Second, 3, time.Second},         // less than the floor remains
	}
	for _, tt := range tests {
		require.Equal(t, now.Add(tt.want), partialDeadline(now, now.Add(tt.remaining), tt.left), "%+v", tt)
	}
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }
