// Package mailtest runs a real SMTP server (github.com/emersion/go-smtp) on loopback for tests, capturing what
// it receives and failing on demand.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message the server accepted, or refused at the end of DATA.
type Received struct {
	// User is who signed in (AUTH PLAIN), when the server asks for it (RequireAuth).
	User string
	// TLS says whether the message came over TLS (STARTTLS, offered by a server from StartTLS).
	TLS      bool
	From     string
	To       []string
	Header   mail.Header
	Raw      string
	Accepted bool
}

// Server is an SMTP server on 127.0.0.1.
type Server struct {
	Addr string

	mu       sync.Mutex
	failures int // DATA commands still to refuse; -1 refuses all
	delay    time.Duration
	user     string // with pass, the credentials AUTH PLAIN must present; "" asks for none
	pass     string
	roots    *x509.CertPool
	caPEM    []byte
	got      []Received
	notify   chan struct{}
}

// Start runs a server until t ends.
func Start(t testing.TB) *Server { return start(t, nil, false) }

// StartTLS runs a server that offers STARTTLS with a certificate for 127.0.0.1, signed by an authority of its own
// that only RootCAs trusts.
func StartTLS(t testing.TB) *Server {
	t.Helper()
	return startWithCertificate(t, false)
}

// StartImplicitTLS runs a server that speaks TLS from the first byte (smtps), with a certificate as StartTLS's.
func StartImplicitTLS(t testing.TB) *Server {
	t.Helper()
	return startWithCertificate(t, true)
}

func startWithCertificate(t testing.TB, implicit bool) *Server {
	t.Helper()
	cert, roots, caPEM := selfSigned(t)
	s := start(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, implicit)
	s.roots, s.caPEM = roots, caPEM
	return s
}

// RootCAs trusts the authority that signed a StartTLS server's certificate.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// CAFile writes that authority's certificate to a PEM file (for SMTP_CA_FILE) and returns its path.
func (s *Server) CAFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, s.caPEM, 0o600); err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	return path
}

func start(t testing.TB, tlsConfig *tls.Config, implicit bool) *Server {
	t.Helper()
	s := &Server{notify: make(chan struct{}, 1000)}
	srv := smtp.NewServer(backend{s})
	srv.TLSConfig = tlsConfig
	srv.Domain = "mailtest.local"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	// Clients that vanish mid-session (the crash tests kill them) are expected, not worth a line on stderr.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.Addr = ln.Addr().String()
	if implicit {
		ln = tls.NewListener(ln, tlsConfig)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// URL is the SMTP_URL of the server (plain text, no TLS).
func (s *Server) URL() string { return "smtp://" + s.Addr + "?tls=none" }

// FailNext makes the next n messages fail with a temporary error after their data is sent; n < 0 fails all.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = n
}

// RequireAuth makes the server refuse mail from a client that has not signed in with AUTH PLAIN as user and pass.
func (s *Server) RequireAuth(user, pass string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.pass = user, pass
}

// Delay makes every message take d to accept, like a slow server.
func (s *Server) Delay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// All returns what the server has received so far, refused messages included.
func (s *Server) All() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.got...)
}

// WaitAccepted waits until n messages have been accepted and returns them.
func (s *Server) WaitAccepted(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.After(timeout)
	for {
		var accepted []Received
		for _, r := range s.All() {
			if r.Accepted {
				accepted = append(accepted, r)
			}
		}
		if len(accepted) >= n {
			return accepted
		}
		select {
		case <-s.notify:
		case <-deadline:
			t.Fatalf("mailtest: %d of %d messages accepted after %s", len(accepted), n, timeout)
		}
	}
}

// Body returns the decoded text/plain part of a message, good enough for assertions on quoted-printable text.
func (r Received) Body() string {
	msg, err := mail.ReadMessage(strings.NewReader(r.Raw))
	if err != nil {
		return r.Raw
	}
	b, _ := io.ReadAll(msg.Body)
	return string(b)
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	from string
	to   []string
}

var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		ss.s.mu.Lock()
		defer ss.s.mu.Unlock()
		if ss.s.user == "" || user != ss.s.user || pass != ss.s.pass {
			return smtp.ErrAuthFailed
		}
		ss.user = user
		return nil
	}), nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.s.mu.Lock()
	required := ss.s.user != ""
	ss.s.mu.Unlock()
	if required && ss.user == "" {
		return errAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return errors.New("mailtest: not a message")
	}
	s := ss.s
	s.mu.Lock()
	delay := s.delay
	s.mu.Unlock()
	time.Sleep(delay)
	s.mu.Lock()
	fail := s.failures != 0
	if s.failures > 0 {
		s.failures--
	}
	s.got = append(s.got, Received{User: ss.user, TLS: isTLS(ss.conn), From: ss.from, To: ss.to, Header: msg.Header, Raw: string(raw), Accepted: !fail})
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
	if fail {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "mailtest: try again later"}
	}
	return nil
}

func isTLS(c *smtp.Conn) bool {
	_, ok := c.TLSConnectionState()
	return ok
}

// selfSigned makes an authority and a certificate it signs for 127.0.0.1.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool, []byte) {
	t.Helper()
	fail := func(err error) {
		if err != nil {
			t.Fatalf("mailtest: certificate: %v", err)
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fail(err)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtest CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	fail(err)
	caCert, err := x509.ParseCertificate(caDER)
	fail(err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fail(err)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	fail(err)
	roots := x509.NewCertPool()
	roots.AddCert(caCert)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}, roots, caPEM
}
