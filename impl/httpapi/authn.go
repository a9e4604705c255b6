package httpapi

import (
	"net/http"
	"strings"

	"github.com/junction-dev/junction/impl/authn"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/webhook"
)

// authenticator enforces each operation's security requirement from openapi.yaml:
//   - none: the operation is public and any Authorization header is ignored;
//   - bearerAuth: a valid token is required; adminAuth: an admin's;
//   - bearerAuth or {} (anonymous): a token is optional, but one that is sent must be valid;
//   - stripeSignature: the Stripe-Signature header must sign the raw body.
//
// Tokens are checked by [authn.Authenticator], as on every other entrance.
type authenticator struct {
	authn  *authn.Authenticator
	stripe *webhook.Verifier
}

// authenticate returns r with the caller's [service.Actor] in its context, or answers and returns false.
func (a *authenticator) authenticate(w http.ResponseWriter, r *http.Request, rules opRules, body []byte, errs errorWriter) (*http.Request, bool) {
	need := authn.User
	switch {
	case rules.scheme == "":
		return r, true
	case rules.scheme == schemeStripeSignature:
		if err := a.stripe.Verify(r.Header.Get("Stripe-Signature"), body); err != nil {
			errs.write(w, r, http.StatusUnauthorized, signatureMessage(err), nil)
			return r, false
		}
		return r, true
	case rules.scheme == schemeAdmin:
		need = authn.Admin
	case rules.optional:
		need = authn.Optional
	}
	actor, signedIn, err := a.authn.Authorization(r.Context(), r.Header.Get("Authorization"), need)
	if err != nil {
		errs.service(w, r, err)
		return r, false
	}
	if !signedIn {
		return r, true
	}
	return r.WithContext(service.NewContextWithActor(r.Context(), actor)), true
}

// signatureMessage says what was wrong with a signature, which helps whoever configures the sender and tells an
// attacker nothing they do not know: the reasons are public in Stripe's documentation.
func signatureMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), webhook.ErrInvalid.Error()+": ")
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}
