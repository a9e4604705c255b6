package httpapi

import (
	"net/http"

	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/authn"
	"github.com/junction-dev/junction/impl/ratelimit"
	"github.com/junction-dev/junction/impl/service"
)

// AdminJobsPath is where River UI is mounted.
const AdminJobsPath = "/admin/jobs"

const adminCookie = "junction_admin"

// adminOnly lets only admins through. It takes a bearer token, or the session cookie it sets after a browser
// signs in with HTTP Basic (email and password), so that a person can open the admin UI without a client. A Basic
// sign-in is a sign-in like any other: it counts against the login action's limits, and it fails alike for a
// wrong password and for a non-admin's right one.
func (s *Server) adminOnly(signIn *authn.Authenticator, limits *ratelimit.Limits, errs errorWriter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if _, ok := auth.BearerToken(header); !ok {
			header = ""
			if c, err := r.Cookie(adminCookie); err == nil {
				header = "Bearer " + c.Value
			} else if email, pw, ok := r.BasicAuth(); ok {
				if err := countAction(w, r, limits, ratelimit.ActionLogin, email); err != nil {
					errs.service(w, r, err)
					return
				}
				tok, err := s.svc.Accounts.LoginAdmin(r.Context(), email, pw)
				if err != nil {
					s.challenge(w, r, errs, err)
					return
				}
				header = "Bearer " + tok.AccessToken
				w.Header().Set("Cache-Control", noStore) // the answer sets the session's token as a cookie
				http.SetCookie(w, &http.Cookie{
					Name: adminCookie, Value: tok.AccessToken, Path: "/admin", MaxAge: int(tok.ExpiresIn.Seconds()),
					HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
				})
			}
		}
		if header == "" {
			s.challenge(w, r, errs, &service.Error{Code: service.EUNAUTHORIZED, Message: "Sign in as an admin."})
			return
		}
		actor, _, err := signIn.Authorization(r.Context(), header, authn.Admin)
		if err != nil {
			s.challenge(w, r, errs, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(service.NewContextWithActor(r.Context(), actor)))
	})
}

// challenge answers a failed admin sign-in; a 401 also offers Basic, so that browsers ask for credentials.
func (s *Server) challenge(w http.ResponseWriter, r *http.Request, errs errorWriter, err error) {
	if service.ErrorCode(err) == service.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Basic realm="junction admin", Bearer realm="junction"`)
		http.SetCookie(w, &http.Cookie{Name: adminCookie, Path: "/admin", MaxAge: -1})
	}
	errs.service(w, r, err)
}
