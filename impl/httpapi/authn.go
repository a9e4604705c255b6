package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/webhook"
)

// authenticator enforces each operation's security requirement from openapi.yaml:
//   - none: the operation is public and any Authorization header is ignored;
//   - bearerAuth: a valid token is required; adminAuth: an admin's;
//   - bearerAuth or {} (anonymous): a token is optional, but one that is sent must be valid;
//   - stripeSignature: the Stripe-Signature header must sign the raw body.
type authenticator struct {
	user   func(ctx context.Context, token string) (service.Actor, error)
	admin  func(ctx context.Context, token string) (service.Actor, error)
	stripe *webhook.Verifier
}

// authenticate returns r with the caller's [service.Actor] in its context, or answers and returns false.
func (a *authenticator) authenticate(w http.ResponseWriter, r *http.Request, rules opRules, body []byte, errs errorWriter) (*http.Request, bool) {
	switch rules.scheme {
	case "":
		return r, true
	case schemeStripeSignature:
		if err := a.stripe.Verify(r.Header.Get("Stripe-Signature"), body); err != nil {
			errs.write(w, r, http.StatusUnauthorized, signatureMessage(err), nil)
			return r, false
		}
		return r, true
	}
	header := r.Header.Get("Authorization")
	if header == "" {
		if rules.optional {
			return r, true
		}
		errs.write(w, r, http.StatusUnauthorized, "Sign in: send Authorization: Bearer <token>.", nil)
		return r, false
	}
	token, ok := auth.BearerToken(header)
	if !ok {
		errs.write(w, r, http.StatusUnauthorized, "The Authorization header must be: Bearer <token>.", nil)
		return r, false
	}
	check := a.user
	if rules.scheme == schemeAdmin {
		check = a.admin
	}
	actor, err := check(r.Context(), token)
	if err != nil {
		errs.service(w, r, err)
		return r, false
	}
	return r.WithContext(service.NewContextWithActor(r.Context(), actor)), true
}

// signatureMessage says what was wrong with a signature, which helps whoever configures the sender and tells an
// attacker nothing they do not know: the reasons are public in Stripe's documentation.
func signatureMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), webhook.ErrInvalid.Error()+": ")
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}
