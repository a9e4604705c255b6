package httpapi

import (
	"net/http"

	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/service"
)

// AdminJobsPath is where River UI is mounted.
const AdminJobsPath = "/admin/jobs"

const adminCookie = "junction_admin"

// adminOnly lets only admins through. It takes a bearer token, or the session cookie it sets after a browser
// signs in with HTTP Basic (email and password), so that a person can open the admin UI without a client.
func (s *Server) adminOnly(errs errorWriter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := ""
		if t, ok := auth.BearerToken(r.Header.Get("Authorization")); ok {
			token = t
		} else if c, err := r.Cookie(adminCookie); err == nil {
			token = c.Value
		} else if email, pw, ok := r.BasicAuth(); ok {
			tok, err := s.svc.Login(r.Context(), email, pw)
			if err != nil {
				s.challenge(w, r, errs, err)
				return
			}
			token = tok.AccessToken
			http.SetCookie(w, &http.Cookie{
				Name: adminCookie, Value: token, Path: "/admin", MaxAge: int(tok.ExpiresIn.Seconds()),
				HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
			})
		}
		if token == "" {
			s.challenge(w, r, errs, &service.Error{Code: service.EUNAUTHORIZED, Message: "Sign in as an admin."})
			return
		}
		actor, err := s.svc.AuthenticateAdmin(r.Context(), token)
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
