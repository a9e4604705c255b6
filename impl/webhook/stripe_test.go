package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// stripeSign is an independent implementation of Stripe's scheme, written from its documentation.
func stripeSign(secret string, ts int64, payload string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(fmt.Sprintf("%d.%s", ts, payload)))
	return hex.EncodeToString(m.Sum(nil))
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	body := `{"id":"evt_1","type":"payment_intent.succeeded"}`
	good := stripeSign("whsec_new", now.Unix(), body)
	v := NewVerifier([]string{"whsec_old", "whsec_new"}, 5*time.Minute, func() time.Time { return now })
	tests := []struct {
		name   string
		header string
		body   string
		ok     bool
	}{
		{"valid", fmt.Sprintf("t=%d,v1=%s", now.Unix(), good), body, true},
		{"signed with the older secret", fmt.Sprintf("t=%d,v1=%s", now.Unix(), stripeSign("whsec_old", now.Unix(), body)), body, true},
		{"one valid v1 among several", fmt.Sprintf("t=%d,v1=%s,v1=%s,v0=abc", now.Unix(), stripeSign("x", now.Unix(), body), good), body, true},
		{"spaces after commas", fmt.Sprintf("t=%d, v1=%s", now.Unix(), good), body, true},
		{"at the edge of the tolerance", fmt.Sprintf("t=%d,v1=%s", now.Unix()-300, stripeSign("whsec_new", now.Unix()-300, body)), body, true},
		{"tampered body", fmt.Sprintf("t=%d,v1=%s", now.Unix(), good), body + " ", false},
		{"wrong secret", fmt.Sprintf("t=%d,v1=%s", now.Unix(), stripeSign("whsec_wrong", now.Unix(), body)), body, false},
		{"timestamp changed", fmt.Sprintf("t=%d,v1=%s", now.Unix()+1, good), body, false},
		{"expired", fmt.Sprintf("t=%d,v1=%s", now.Unix()-301, stripeSign("whsec_new", now.Unix()-301, body)), body, false},
		{"from the future", fmt.Sprintf("t=%d,v1=%s", now.Unix()+301, stripeSign("whsec_new", now.Unix()+301, body)), body, false},
		{"missing header", "", body, false},
		{"no timestamp", "v1=" + good, body, false},
		{"no v1", fmt.Sprintf("t=%d", now.Unix()), body, false},
		{"only v0", fmt.Sprintf("t=%d,v0=%s", now.Unix(), good), body, false},
		{"garbage", "garbage", body, false},
		{"bad timestamp", "t=soon,v1=" + good, body, false},
		{"two timestamps", fmt.Sprintf("t=%d,t=%d,v1=%s", now.Unix(), now.Unix(), good), body, false},
		{"signature not hex", fmt.Sprintf("t=%d,v1=zz", now.Unix()), body, false},
		{"short signature", fmt.Sprintf("t=%d,v1=%s", now.Unix(), good[:10]), body, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Verify(tt.header, []byte(tt.body))
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.True(t, errors.Is(err, ErrInvalid), err)
		})
	}
}

func TestVerifyWithoutSecrets(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	v := NewVerifier([]string{""}, time.Minute, func() time.Time { return now })
	require.ErrorIs(t, v.Verify(fmt.Sprintf("t=%d,v1=%s", now.Unix(), stripeSign("", now.Unix(), "{}")), []byte("{}")), ErrInvalid)
}

func TestSignMatchesTheIndependentImplementation(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	require.Equal(t, fmt.Sprintf("t=%d,v1=%s", now.Unix(), stripeSign("s", now.Unix(), "{}")), Sign([]byte("s"), now, []byte("{}")))
}
