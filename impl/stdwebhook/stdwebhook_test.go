package stdwebhook_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/junction-dev/junction/impl/stdwebhook"
)

// Signatures are checked with the official Go library of the specification (standard-webhooks/standard-webhooks,
// libraries/go), not with code of ours, so that Sign is held to what receivers actually run. Its Verify compares
// the timestamp with time.Now() at a fixed tolerance of 5 minutes, so these tests sign at the current time.

// newKey returns a fresh serialized secret, its parsed key and the official verifier built from the serialized form
// (as a receiver would be configured).
func newKey(t testing.TB) (string, []byte, *standardwebhooks.Webhook) {
	t.Helper()
	secret, err := stdwebhook.NewSecret()
	require.NoError(t, err)
	key, err := stdwebhook.ParseSecret(secret)
	require.NoError(t, err)
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	return secret, key, wh
}

func TestSignVerifiesWithTheOfficialLibrary(t *testing.T) {
	t.Parallel()
	_, key, wh := newKey(t)
	tests := []struct {
		name  string
		msgID string
		body  []byte
	}{
		{"minified JSON", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", []byte(`{"type":"contact.created","data":{"id":"1"}}`)},
		{"indented JSON", "msg_1", []byte("{\n  \"type\": \"x\",\n  \"data\": {}\n}\n")},
		{"empty body", "msg_empty", nil},
		{"binary body", "msg_bin", []byte{0, 1, 2, 0xff, '.', ' ', '\n'}},
		{"1 KiB body", "msg_big", bytes.Repeat([]byte("a"), 1024)},
		{"uuid id", "1f81eb52-5198-4599-803e-771906343485", []byte(`{}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := stdwebhook.Headers([][]byte{key}, tt.msgID, time.Now(), tt.body)
			require.NoError(t, wh.Verify(tt.body, h))
		})
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	_, key, wh := newKey(t)
	// A sub-second time: only its Unix seconds are sent and signed.
	ts := time.Now().Add(-time.Second).Truncate(time.Second).Add(999 * time.Millisecond)
	body := []byte(`{"type":"example.event"}`)
	h := stdwebhook.Headers([][]byte{key}, "msg_h", ts, body)
	require.Len(t, h, 3)
	require.Equal(t, "msg_h", h.Get(standardwebhooks.HeaderWebhookID))
	require.Equal(t, strconv.FormatInt(ts.Unix(), 10), h.Get(standardwebhooks.HeaderWebhookTimestamp))
	require.Equal(t, stdwebhook.Sign([][]byte{key}, "msg_h", ts, body), h.Get(standardwebhooks.HeaderWebhookSignature))
	// Our constants are the library's names.
	require.Equal(t, standardwebhooks.HeaderWebhookID, stdwebhook.HeaderID)
	require.Equal(t, standardwebhooks.HeaderWebhookTimestamp, stdwebhook.HeaderTimestamp)
	require.Equal(t, standardwebhooks.HeaderWebhookSignature, stdwebhook.HeaderSignature)
	require.NoError(t, wh.Verify(body, h))

	// Set on a real request and read back from the wire form, header names case-insensitive.
	req, err := http.NewRequest(http.MethodPost, "http://example.invalid/hook", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = h.Clone()
	var wire bytes.Buffer
	require.NoError(t, req.Write(&wire))
	require.Contains(t, wire.String(), "Webhook-Signature: v1,")
}

func TestRotation(t *testing.T) {
	t.Parallel()
	_, newest, whNewest := newKey(t)
	_, older, whOlder := newKey(t)
	_, _, whOther := newKey(t)
	body := []byte(`{"type":"secret.rotated"}`)
	h := stdwebhook.Headers([][]byte{newest, older}, "msg_rot", time.Now(), body)

	sigs := strings.Split(h.Get(stdwebhook.HeaderSignature), " ")
	require.Len(t, sigs, 2, "one signature per key, space-separated")
	require.Equal(t, stdwebhook.Sign([][]byte{newest}, "msg_rot", time.Unix(mustUnix(t, h), 0), body), sigs[0],
		"newest first")

	tests := []struct {
		name string
		wh   *standardwebhooks.Webhook
		ok   bool
	}{
		{"receiver still on the older secret", whOlder, true},
		{"receiver already on the newest secret", whNewest, true},
		{"receiver with an unrelated secret", whOther, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.wh.Verify(body, h)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, standardwebhooks.ErrNoMatchingSignature)
		})
	}
}

func mustUnix(t *testing.T, h http.Header) int64 {
	t.Helper()
	n, err := strconv.ParseInt(h.Get(stdwebhook.HeaderTimestamp), 10, 64)
	require.NoError(t, err)
	return n
}

func TestTamperingFails(t *testing.T) {
	t.Parallel()
	_, key, wh := newKey(t)
	_, otherKey, _ := newKey(t)
	body := []byte(`{"type":"invoice.paid","data":{"amount":100}}`)
	now := time.Now()
	signed := func() http.Header { return stdwebhook.Headers([][]byte{key}, "msg_t", now, body) }
	tests := []struct {
		name    string
		body    []byte
		headers func() http.Header
		want    error
	}{
		{"body changed", []byte(`{"type":"invoice.paid","data":{"amount":999}}`), signed, standardwebhooks.ErrNoMatchingSignature},
		{"body with a stray space", append(append([]byte{}, body...), ' '), signed, standardwebhooks.ErrNoMatchingSignature},
		{"body empty", nil, signed, standardwebhooks.ErrNoMatchingSignature},
		{"id changed", body, func() http.Header {
			h := signed()
			h.Set(stdwebhook.HeaderID, "msg_u")
			return h
		}, standardwebhooks.ErrNoMatchingSignature},
		{"timestamp one second later", body, func() http.Header {
			h := signed()
			h.Set(stdwebhook.HeaderTimestamp, strconv.FormatInt(now.Unix()+1, 10))
			return h
		}, standardwebhooks.ErrNoMatchingSignature},
		{"timestamp one second earlier", body, func() http.Header {
			h := signed()
			h.Set(stdwebhook.HeaderTimestamp, strconv.FormatInt(now.Unix()-1, 10))
			return h
		}, standardwebhooks.ErrNoMatchingSignature},
		{"signed with another key", body, func() http.Header {
			return stdwebhook.Headers([][]byte{otherKey}, "msg_t", now, body)
		}, standardwebhooks.ErrNoMatchingSignature},
		{"signature truncated", body, func() http.Header {
			h := signed()
			s := h.Get(stdwebhook.HeaderSignature)
			h.Set(stdwebhook.HeaderSignature, s[:len(s)-2])
			return h
		}, standardwebhooks.ErrNoMatchingSignature},
		{"signed with no keys", body, func() http.Header {
			return stdwebhook.Headers(nil, "msg_t", now, body)
		}, standardwebhooks.ErrRequiredHeaders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.ErrorIs(t, wh.Verify(tt.body, tt.headers()), tt.want)
		})
	}
}

func TestTimestampTolerance(t *testing.T) {
	t.Parallel()
	_, key, wh := newKey(t)
	body := []byte(`{"type":"late.event"}`)
	// The library's tolerance is 5 minutes either way; the cases keep a minute's margin from it.
	tests := []struct {
		name   string
		offset time.Duration
		want   error
	}{
		{"now", 0, nil},
		{"4 minutes old", -4 * time.Minute, nil},
		{"4 minutes ahead", 4 * time.Minute, nil},
		{"6 minutes old", -6 * time.Minute, standardwebhooks.ErrMessageTooOld},
		{"a day old", -24 * time.Hour, standardwebhooks.ErrMessageTooOld},
		{"6 minutes ahead", 6 * time.Minute, standardwebhooks.ErrMessageTooNew},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := stdwebhook.Headers([][]byte{key}, "msg_tol", time.Now().Add(tt.offset), body)
			err := wh.Verify(body, h)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
			// The signature itself is good: only the time refuses it.
			require.NoError(t, wh.VerifyIgnoringTimestamp(body, h))
		})
	}
}

// TestSignKnownAnswer pins Sign to vectors computed outside Go, so that a mistake shared by Sign and the official
// library (or by our use of it) cannot hide. Message: the specification's own example, signed content
//
//	msg_2KWPBgLlAfxdpx2AI54pPJ85f4W.1674087231.{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"1f81eb52-5198-4599-803e-771906343485"}}
//
// in the shell, with MSG holding that line and no trailing newline (OpenSSL 3.0.19; the same with Python's hmac):
//
//	printf '%s' "$MSG" | openssl dgst -sha256 -hmac 'junction-stdwebhook-kat-key-0032' -binary | base64
//	printf '%s' "$MSG" | openssl dgst -sha256 -mac HMAC \
//	    -macopt hexkey:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f -binary | base64
//
// and the secrets as base64 of the same keys:
//
//	printf '%s' 'junction-stdwebhook-kat-key-0032' | base64
//	printf '%s' 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f | xxd -r -p | base64
func TestSignKnownAnswer(t *testing.T) {
	t.Parallel()
	const (
		msgID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
		body  = `{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"1f81eb52-5198-4599-803e-771906343485"}}`
		// 32 ASCII bytes, "junction-stdwebhook-kat-key-0032".
		secretA = "whsec_anVuY3Rpb24tc3Rkd2ViaG9vay1rYXQta2V5LTAwMzI="
		sigA    = "v1,8SGYpx1gcFqq5CS2sL3DR9CkdIIYqh6TBieQCuB73oc="
		// The 32 bytes 0x00, 0x01, …, 0x1f.
		secretB = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
		sigB    = "v1,4PMU5Dl90B4kgwxDpwuMZ/cnZ5ztf+Y+kviYQD66rJg="
	)
	ts := time.Unix(1674087231, 0)
	keyA, err := stdwebhook.ParseSecret(secretA)
	require.NoError(t, err)
	require.Equal(t, []byte("junction-stdwebhook-kat-key-0032"), keyA)
	keyB, err := stdwebhook.ParseSecret(secretB)
	require.NoError(t, err)
	for i, b := range keyB {
		require.Equal(t, byte(i), b)
	}
	tests := []struct {
		name string
		keys [][]byte
		want string
	}{
		{"ASCII key", [][]byte{keyA}, sigA},
		{"binary key", [][]byte{keyB}, sigB},
		{"rotation, newest first", [][]byte{keyB, keyA}, sigB + " " + sigA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, stdwebhook.Sign(tt.keys, msgID, ts, []byte(body)))
			// A sub-second part changes nothing.
			require.Equal(t, tt.want, stdwebhook.Sign(tt.keys, msgID, ts.Add(999*time.Millisecond), []byte(body)))
		})
	}
	// The official library agrees with the vectors too (so its use in the other tests checks the right thing).
	for secret, want := range map[string]string{secretA: sigA, secretB: sigB} {
		wh, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		got, err := wh.Sign(msgID, ts, []byte(body))
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}

func TestParseSecret(t *testing.T) {
	t.Parallel()
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xa5}, n)) }
	tests := []struct {
		name    string
		secret  string
		wantLen int // 0: refused
	}{
		{"24 bytes, the shortest", "whsec_" + b64(24), 24},
		{"32 bytes", "whsec_" + b64(32), 32},
		{"64 bytes, the longest", "whsec_" + b64(64), 64},
		{"the official library's test secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 24},

		{"empty", "", 0},
		{"prefix only", "whsec_", 0},
		{"no prefix", b64(32), 0},
		{"asymmetric secret key prefix", "whsk_" + b64(32), 0},
		{"public key prefix", "whpk_" + b64(32), 0},
		{"upper-case prefix", "WHSEC_" + b64(32), 0},
		{"prefix without underscore", "whsec" + b64(32), 0},
		{"space after the prefix", "whsec_ " + b64(32), 0},
		{"trailing newline", "whsec_" + b64(32) + "\n", 0},
		{"line break inside", "whsec_" + b64(32)[:20] + "\r\n" + b64(32)[20:], 0},
		{"not base64", "whsec_not base64!", 0},
		{"URL-safe alphabet", "whsec_" + strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 16))), 0},
		{"missing padding", "whsec_" + strings.TrimRight(b64(32), "="), 0},
		{"non-zero padding bits", "whsec_" + b64(32)[:42] + "B=", 0},
		{"23 bytes, too short", "whsec_" + b64(23), 0},
		{"65 bytes, too long", "whsec_" + b64(65), 0},
		{"1 byte", "whsec_" + b64(1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key, err := stdwebhook.ParseSecret(tt.secret)
			if tt.wantLen > 0 {
				require.NoError(t, err)
				require.Len(t, key, tt.wantLen)
				return
			}
			require.ErrorIs(t, err, stdwebhook.ErrInvalidSecret)
			require.Nil(t, key)
			if len(tt.secret) > len("whsec_")+8 {
				require.NotContains(t, err.Error(), tt.secret[len("whsec_"):], "the message leaks the secret")
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 2 {
		secret, err := stdwebhook.NewSecret()
		require.NoError(t, err)
		encoded, ok := strings.CutPrefix(secret, "whsec_")
		require.True(t, ok, secret)
		raw, err := base64.StdEncoding.DecodeString(encoded)
		require.NoError(t, err)
		require.Len(t, raw, 32)
		key, err := stdwebhook.ParseSecret(secret)
		require.NoError(t, err)
		require.Equal(t, raw, key)
		require.False(t, seen[secret], "two calls gave the same secret")
		seen[secret] = true
	}
}

func BenchmarkSign(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1024)
	ts := time.Unix(1674087231, 0)
	keys := make([][]byte, 2)
	for i := range keys {
		_, keys[i], _ = newKey(b)
	}
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				_ = stdwebhook.Sign(keys[:n], "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", ts, body)
			}
		})
	}
}
