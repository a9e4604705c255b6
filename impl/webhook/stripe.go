// Package webhook verifies incoming webhook signatures the way Stripe signs them, and signs the same way for tests
// and tools: header "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid is wrapped by every verification failure.
var ErrInvalid = errors.New("webhook: invalid signature")

// Verifier checks signatures against any of several secrets, so that a secret can be rotated without downtime.
type Verifier struct {
	secrets   [][]byte
	tolerance time.Duration
	now       func() time.Time
}

// NewVerifier accepts signatures by any of secrets whose timestamp is within tolerance of now, either way.
func NewVerifier(secrets []string, tolerance time.Duration, now func() time.Time) *Verifier {
	v := &Verifier{tolerance: tolerance, now: now}
	for _, s := range secrets {
		if s != "" {
			v.secrets = append(v.secrets, []byte(s))
		}
	}
	return v
}

// Verify checks header against the raw body, byte for byte. It parses nothing of the body.
func (v *Verifier) Verify(header string, body []byte) error {
	if len(v.secrets) == 0 {
		return fmt.Errorf("%w: no webhook secret is configured", ErrInvalid)
	}
	ts, sigs, err := parseHeader(header)
	if err != nil {
		return err
	}
	age := v.now().Sub(time.Unix(ts, 0))
	if age > v.tolerance || -age > v.tolerance {
		return fmt.Errorf("%w: timestamp outside the tolerance of %s", ErrInvalid, v.tolerance)
	}
	for _, secret := range v.secrets {
		want := mac(secret, ts, body)
		for _, sig := range sigs {
			if hmac.Equal(sig, want) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: no signature matches", ErrInvalid)
}

func parseHeader(header string) (int64, [][]byte, error) {
	if header == "" {
		return 0, nil, fmt.Errorf("%w: missing Stripe-Signature header", ErrInvalid)
	}
	var ts int64
	seenT := false
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return 0, nil, fmt.Errorf("%w: malformed header", ErrInvalid)
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || seenT {
				return 0, nil, fmt.Errorf("%w: malformed timestamp", ErrInvalid)
			}
			ts, seenT = n, true
		case "v1":
			sig, err := hex.DecodeString(val)
			if err == nil && len(sig) == sha256.Size {
				sigs = append(sigs, sig)
			}
		}
		// Other schemes (v0, future ones) are ignored, as Stripe's own libraries do.
	}
	if !seenT {
		return 0, nil, fmt.Errorf("%w: no timestamp", ErrInvalid)
	}
	if len(sigs) == 0 {
		return 0, nil, fmt.Errorf("%w: no v1 signature", ErrInvalid)
	}
	return ts, sigs, nil
}

func mac(secret []byte, ts int64, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(strconv.FormatInt(ts, 10)))
	h.Write([]byte("."))
	h.Write(body)
	return h.Sum(nil)
}

// Sign returns the Stripe-Signature header for body sent at t, signed with secret. Junction itself only verifies:
// Sign is the one signer of its tests and tools (cmd/bench), so that they sign exactly as Stripe does, which
// TestSignMatchesAKnownAnswer pins.
func Sign(secret []byte, t time.Time, body []byte) string {
	return fmt.Sprintf("t=%d,v1=%s", t.Unix(), hex.EncodeToString(mac(secret, t.Unix(), body)))
}
