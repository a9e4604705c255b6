// Package stdwebhook signs outgoing webhooks by the symmetric scheme of the Standard Webhooks specification
// (https://github.com/standard-webhooks/standard-webhooks, spec/standard-webhooks.md, version 1.0.0): secrets are
// "whsec_" + base64 of 24 to 64 random bytes; a message is signed as
// "v1," + base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")); and the webhook-id,
// webhook-timestamp and webhook-signature headers carry the id, the time of the attempt in Unix seconds and the
// space-separated signatures, one per key, so that a secret can be rotated without downtime.
//
// It only signs: receivers verify with any Standard Webhooks library (the tests use the official Go one). It knows
// nothing of the business: what a message is, its id and which keys an endpoint has are the caller's.
package stdwebhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The header names of the specification. http.Header canonicalizes them on the wire ("Webhook-Id"), which is the
// same header: HTTP header names are case-insensitive.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every serialized symmetric secret, so that a secret is recognized for what it is.
const SecretPrefix = "whsec_"

// The bounds of a key's length, in bytes, from the specification's "Signing secret" row ("Random. Between 24 bytes
// (192 bits) and 64 bytes (512 bits)"). Shorter is below the 192 bits of security the specification asks of a
// key. Longer adds nothing: HMAC-SHA256 first hashes a key longer than SHA-256's 64-byte block down to 32 bytes, so
// a longer value is not what a conforming producer generates and most likely not a secret at all (a pasted token,
// a key in the wrong encoding).
const (
	MinKeyLen = 24
	MaxKeyLen = 64
)

// secretLen is how many random bytes NewSecret draws: 256 bits, HMAC-SHA256's own output size, inside the bounds.
const secretLen = 32

// ErrInvalidSecret is wrapped by every refusal of ParseSecret.
var ErrInvalidSecret = errors.New("stdwebhook: invalid secret")

// NewSecret returns a new serialized secret: "whsec_" + base64 (standard encoding, padded) of 32 bytes from
// crypto/rand. Keep it as a secret; ParseSecret gives the key back.
func NewSecret() (string, error) {
	key := make([]byte, secretLen)
	// Since Go 1.24 crypto/rand.Read never fails (the program crashes instead); the error is kept for the form.
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("stdwebhook: new secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// ParseSecret returns the key of a serialized secret "whsec_<base64>". It refuses, wrapping ErrInvalidSecret, a
// missing or different prefix (an asymmetric "whsk_" key, a bare base64 key, an upper-case "WHSEC_"), base64 that is
// not the canonical standard encoding with padding (including embedded line breaks, which the decoder would
// otherwise skip), and a key shorter than MinKeyLen or longer than MaxKeyLen bytes. The message never includes the
// secret.
func ParseSecret(s string) ([]byte, error) {
	encoded, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: does not start with %q", ErrInvalidSecret, SecretPrefix)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(encoded)
	// The decoder skips '\r' and '\n' anywhere; a secret is one token, so only its canonical encoding is accepted.
	if err != nil || base64.StdEncoding.EncodeToString(key) != encoded {
		return nil, fmt.Errorf("%w: not standard base64 after %q", ErrInvalidSecret, SecretPrefix)
	}
	if len(key) < MinKeyLen || len(key) > MaxKeyLen {
		return nil, fmt.Errorf("%w: the key is %d bytes, the specification asks for %d to %d",
			ErrInvalidSecret, len(key), MinKeyLen, MaxKeyLen)
	}
	return key, nil
}

// sigLen is the length of one "v1,<base64 of 32 bytes>".
var sigLen = len("v1,") + base64.StdEncoding.EncodedLen(sha256.Size)

// Sign returns the value of the webhook-signature header for a message: for each key (as ParseSecret returns it;
// Sign does not check keys again), in order,
// "v1," + base64(HMAC-SHA256(key, msgID + "." + <ts in Unix seconds> + "." + body)), separated by single spaces.
// During a rotation pass the new key and the old one, newest first; a receiver accepts the message if any one
// matches a key it holds.
//
// msgID must be chosen by the producer, never by a user, and must not contain '.', which would make the signed
// content ambiguous (the specification's warning). ts is the time of this attempt, not of the event: a retry is
// signed anew with its own time, or receivers refuse it once it is older than their tolerance (5 minutes for the
// official Go library). The sub-second part of ts is not signed. With no keys Sign returns "", which no receiver
// accepts.
func Sign(keys [][]byte, msgID string, ts time.Time, body []byte) string {
	if len(keys) == 0 {
		return ""
	}
	// "<msgID>.<unix seconds>.", the same for every key.
	prefix := make([]byte, 0, len(msgID)+22)
	prefix = append(prefix, msgID...)
	prefix = append(prefix, '.')
	prefix = strconv.AppendInt(prefix, ts.Unix(), 10)
	prefix = append(prefix, '.')
	var sum [sha256.Size]byte
	out := make([]byte, 0, len(keys)*(sigLen+1)-1)
	for i, key := range keys {
		if i > 0 {
			out = append(out, ' ')
		}
		mac := hmac.New(sha256.New, key)
		mac.Write(prefix)
		mac.Write(body)
		out = append(out, "v1,"...)
		out = base64.StdEncoding.AppendEncode(out, mac.Sum(sum[:0]))
	}
	return string(out)
}

// Headers returns the three headers of the specification for a message: webhook-id (msgID), webhook-timestamp (ts
// in Unix seconds) and webhook-signature (Sign's value). Copy them onto the request, or use them as its Header. The
// body sent must be exactly the bytes signed.
func Headers(keys [][]byte, msgID string, ts time.Time, body []byte) http.Header {
	h := make(http.Header, 3)
	h.Set(HeaderID, msgID)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, Sign(keys, msgID, ts, body))
	return h
}
