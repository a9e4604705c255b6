// Package endpoints is where outgoing webhooks go (issue 16): the endpoints a user registers, which event types
// each takes, and their signing secrets (Standard Webhooks), sealed at rest and rotated with an overlap.
package endpoints

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	neturl "net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/junction-dev/junction/gen/db"
	"github.com/junction-dev/junction/impl/auth"
	"github.com/junction-dev/junction/impl/outbound"
	"github.com/junction-dev/junction/impl/retry"
	"github.com/junction-dev/junction/impl/service"
	"github.com/junction-dev/junction/impl/service/internal/core"
	"github.com/junction-dev/junction/impl/stdwebhook"
)

// CheckURL refuses a destination Junction must not send to (impl/outbound.CheckURL under the configured policy),
// with a message the endpoint's owner can act on.
type CheckURL func(ctx context.Context, url string) error

// Deps are what a Service needs beside the core.
type Deps struct {
	// Sealer seals signing secrets at rest.
	Sealer *auth.Sealer
	// CheckURL judges destinations when they are saved.
	CheckURL CheckURL
	// Schedule is the delays between a delivery's attempts (retry.WebhookSchedule, or WEBHOOK_RETRY_SCHEDULE).
	Schedule retry.Schedule
	// Now is the clock (the 5-day rule, rotations, recoveries); Rand spreads retries (math/rand/v2's Float64).
	Now  func() time.Time
	Rand func() float64
}

// Service manages webhook endpoints and their deliveries. It is safe for concurrent use.
type Service struct {
	core *core.Core
	deps Deps
}

// New returns a Service over c.
func New(c *core.Core, d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Rand == nil {
		d.Rand = rand.Float64
	}
	return &Service{core: c, deps: d}
}

// errOwnerGone answers a create whose caller's account was deleted after their token was checked.
var errOwnerGone = &service.Error{Code: service.EUNAUTHORIZED, Message: "The account no longer exists."}

var errTooMany = &service.Error{Code: service.ECONFLICT,
	Message: fmt.Sprintf("An account may have at most %d webhook endpoints; delete one first.", service.WebhookEndpointsPerUser)}

// Create registers an endpoint for the caller and returns it with its signing secret, which no later answer
// carries.
func (s *Service) Create(ctx context.Context, in service.CreateWebhookEndpointInput) (service.NewWebhookSecret, error) {
	actor, err := core.RequireActor(ctx)
	if err != nil {
		return service.NewWebhookSecret{}, err
	}
	fe := core.FieldErrors{}
	s.checkDestination(ctx, fe, in.URL)
	checkDescription(fe, in.Description)
	forbidden := checkEventTypes(fe, in.EventTypes, actor)
	if err := fe.Err(); err != nil {
		return service.NewWebhookSecret{}, err
	}
	if forbidden != nil {
		return service.NewWebhookSecret{}, forbidden
	}
	secret, sealed, err := s.newSecret()
	if err != nil {
		return service.NewWebhookSecret{}, fmt.Errorf("create webhook endpoint: %w", err)
	}
	var row db.WebhookEndpoint
	err = s.core.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := s.core.Queries.WebhookEndpointLockOwner(ctx, tx, actor.UserID); errors.Is(err, pgx.ErrNoRows) {
			return errOwnerGone
		} else if err != nil {
			return err
		}
		row, err = s.core.Queries.WebhookEndpointCreate(ctx, tx, db.WebhookEndpointCreateParams{
			OwnerID: actor.UserID, Url: in.URL, Description: in.Description, EventTypes: typeStrings(in.EventTypes),
			Enabled: in.Enabled == nil || *in.Enabled, SecretSealed: sealed, MaxPerOwner: service.WebhookEndpointsPerUser,
		})
		return err
	})
	var se *service.Error
	switch {
	case errors.As(err, &se):
		return service.NewWebhookSecret{}, se
	case errors.Is(err, pgx.ErrNoRows):
		return service.NewWebhookSecret{}, errTooMany
	}
	if err != nil {
		return service.NewWebhookSecret{}, fmt.Errorf("create webhook endpoint: %w", err)
	}
	return service.NewWebhookSecret{Endpoint: toEndpoint(row), Secret: secret}, nil
}

// Get returns an endpoint of the caller's (any, for an admin, who may look but not change); someone else's is
// ENOTFOUND, as if it did not exist.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (service.WebhookEndpoint, error) {
	row, err := s.visible(ctx, id)
	if err != nil {
		return service.WebhookEndpoint{}, err
	}
	return toEndpoint(row), nil
}

// List returns a page of the caller's endpoints, newest first.
func (s *Service) List(ctx context.Context, page, limit int) (service.WebhookEndpointPage, error) {
	actor, err := core.RequireActor(ctx)
	if err != nil {
		return service.WebhookEndpointPage{}, err
	}
	fe := core.FieldErrors{}
	core.CheckPage(fe, &page, &limit)
	if err := fe.Err(); err != nil {
		return service.WebhookEndpointPage{}, err
	}
	rows, err := s.core.Queries.WebhookEndpointListByOwner(ctx, s.core.DB, db.WebhookEndpointListByOwnerParams{
		OwnerID: actor.UserID, RowLimit: int32(limit), RowOffset: core.Offset(page, limit),
	})
	if err != nil {
		return service.WebhookEndpointPage{}, fmt.Errorf("list webhook endpoints: %w", err)
	}
	total, err := s.core.Queries.WebhookEndpointCountByOwner(ctx, s.core.DB, actor.UserID)
	if err != nil {
		return service.WebhookEndpointPage{}, fmt.Errorf("count webhook endpoints: %w", err)
	}
	out := make([]service.WebhookEndpoint, len(rows))
	for i, r := range rows {
		out[i] = toEndpoint(r)
	}
	return service.WebhookEndpointPage{Endpoints: out, Total: total}, nil
}

// Update changes the given fields of an endpoint of the caller's. Enabling it again clears why Junction had
// disabled it. The event types it ends up with are judged by its owner's role now: a demoted admin cannot keep,
// or re-point, an endpoint that takes admins' events.
func (s *Service) Update(ctx context.Context, id uuid.UUID, in service.UpdateWebhookEndpointInput) (service.WebhookEndpoint, error) {
	row, owner, err := s.mine(ctx, id)
	if err != nil {
		return service.WebhookEndpoint{}, err
	}
	fe := core.FieldErrors{}
	if in.URL == nil && in.Description == nil && in.EventTypes == nil && in.Enabled == nil {
		fe.Add("body", "must set at least one of url, description, eventTypes and enabled")
	}
	if in.URL != nil {
		s.checkDestination(ctx, fe, *in.URL)
	}
	if in.Description != nil {
		checkDescription(fe, *in.Description)
	}
	types := in.EventTypes
	if types == nil {
		types = toEndpoint(row).EventTypes
	}
	forbidden := checkEventTypes(fe, types, owner)
	if err := fe.Err(); err != nil {
		return service.WebhookEndpoint{}, err
	}
	onlyDisables := in.Enabled != nil && !*in.Enabled && in.URL == nil && in.EventTypes == nil
	if forbidden != nil && !onlyDisables {
		return service.WebhookEndpoint{}, forbidden
	}
	var typeNames []string
	if in.EventTypes != nil {
		typeNames = typeStrings(in.EventTypes)
	}
	var updated db.WebhookEndpoint
	// One statement, in a transaction all the same: every write does, so that a keyed request's answer is
	// stored with it.
	err = s.core.InTx(ctx, func(tx pgx.Tx) error {
		updated, err = s.core.Queries.WebhookEndpointUpdate(ctx, tx, db.WebhookEndpointUpdateParams{
			ID: id, Url: in.URL, Description: in.Description, EventTypes: typeNames, Enabled: in.Enabled,
		})
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return service.WebhookEndpoint{}, core.NotFound("Webhook endpoint") // deleted meanwhile
	}
	if err != nil {
		return service.WebhookEndpoint{}, fmt.Errorf("update webhook endpoint: %w", err)
	}
	return toEndpoint(updated), nil
}

// Delete deletes an endpoint of the caller's.
func (s *Service) Delete(ctx context.Context, id uuid.UUID) error {
	if _, _, err := s.mine(ctx, id); err != nil {
		return err
	}
	n, err := s.core.Queries.WebhookEndpointDelete(ctx, s.core.DB, id)
	if err != nil {
		return fmt.Errorf("delete webhook endpoint: %w", err)
	}
	if n == 0 {
		return core.NotFound("Webhook endpoint")
	}
	return nil
}

// RotateSecret gives an endpoint of the caller's a new signing secret and returns it, once. The secret it replaces
// stays valid for [service.WebhookSecretOverlap], so that a receiver can switch without losing a delivery.
func (s *Service) RotateSecret(ctx context.Context, id uuid.UUID) (service.NewWebhookSecret, error) {
	if _, _, err := s.mine(ctx, id); err != nil {
		return service.NewWebhookSecret{}, err
	}
	secret, sealed, err := s.newSecret()
	if err != nil {
		return service.NewWebhookSecret{}, fmt.Errorf("rotate webhook secret: %w", err)
	}
	row, err := s.core.Queries.WebhookEndpointRotateSecret(ctx, s.core.DB, db.WebhookEndpointRotateSecretParams{
		ID: id, SecretSealed: sealed, PreviousExpiresAt: new(s.deps.Now().Add(service.WebhookSecretOverlap)),
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return service.NewWebhookSecret{}, core.NotFound("Webhook endpoint")
	}
	if err != nil {
		return service.NewWebhookSecret{}, fmt.Errorf("rotate webhook secret: %w", err)
	}
	return service.NewWebhookSecret{Endpoint: toEndpoint(row), Secret: secret}, nil
}

// SigningKeys returns the keys that sign a delivery to endpoint id now, newest first: the current secret's, and
// the previous one's while its overlap lasts. For the delivery worker; it checks no caller.
func (s *Service) SigningKeys(ctx context.Context, id uuid.UUID) ([][]byte, error) {
	row, err := s.core.Queries.WebhookEndpointGetByID(ctx, s.core.DB, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, core.NotFound("Webhook endpoint")
	}
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return s.keys(row.SecretSealed, row.PreviousSecretSealed, row.PreviousSecretExpiresAt)
}

// keys opens an endpoint's sealed secrets into signing keys, newest first: the previous secret's only while its
// overlap lasts.
func (s *Service) keys(current string, previous *string, previousExpires *time.Time) ([][]byte, error) {
	sealed := []string{current}
	if previous != nil && previousExpires != nil && s.deps.Now().Before(*previousExpires) {
		sealed = append(sealed, *previous)
	}
	keys := make([][]byte, 0, len(sealed))
	for _, sl := range sealed {
		secret, err := s.deps.Sealer.Open(sl)
		if err != nil {
			return nil, fmt.Errorf("signing keys: open secret: %w", err)
		}
		key, err := stdwebhook.ParseSecret(secret)
		if err != nil {
			return nil, fmt.Errorf("signing keys: %w", err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// visible returns endpoint id if the caller owns it or is an admin; ENOTFOUND otherwise, so that nobody learns
// which ids exist.
func (s *Service) visible(ctx context.Context, id uuid.UUID) (db.WebhookEndpoint, error) {
	actor, err := core.RequireActor(ctx)
	if err != nil {
		return db.WebhookEndpoint{}, err
	}
	row, err := s.get(ctx, id)
	if err == nil && row.OwnerID != actor.UserID && !actor.IsAdmin() {
		return db.WebhookEndpoint{}, core.NotFound("Webhook endpoint")
	}
	return row, err
}

// mine returns endpoint id if the caller owns it, with the caller as its owner: a change, a deletion or a
// rotation (which shows the secret) is the owner's alone, an admin's included. Anyone else's is ENOTFOUND.
func (s *Service) mine(ctx context.Context, id uuid.UUID) (db.WebhookEndpoint, service.Actor, error) {
	actor, err := core.RequireActor(ctx)
	if err != nil {
		return db.WebhookEndpoint{}, service.Actor{}, err
	}
	row, err := s.get(ctx, id)
	if err == nil && row.OwnerID != actor.UserID {
		return db.WebhookEndpoint{}, service.Actor{}, core.NotFound("Webhook endpoint")
	}
	return row, actor, err
}

func (s *Service) get(ctx context.Context, id uuid.UUID) (db.WebhookEndpoint, error) {
	row, err := s.core.Queries.WebhookEndpointGetByID(ctx, s.core.DB, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return db.WebhookEndpoint{}, core.NotFound("Webhook endpoint")
	}
	if err != nil {
		return db.WebhookEndpoint{}, fmt.Errorf("get webhook endpoint: %w", err)
	}
	return row, nil
}

func (s *Service) newSecret() (secret, sealed string, err error) {
	if secret, err = stdwebhook.NewSecret(); err != nil {
		return "", "", err
	}
	if sealed, err = s.deps.Sealer.Seal(secret); err != nil {
		return "", "", err
	}
	return secret, sealed, nil
}

// checkDestination records why url is not a destination Junction sends to.
func (s *Service) checkDestination(ctx context.Context, fe core.FieldErrors, url string) {
	if n := len(url); n < 1 || n > service.WebhookURLMaxLen {
		fe.Add("url", fmt.Sprintf("must be 1 to %d characters", service.WebhookURLMaxLen))
		return
	}
	// A URL is ASCII (RFC 3986): what else a receiver's address holds is percent-encoded. Refusing spaces,
	// controls and other characters keeps what is stored what is sent (no trailing space, no bidi override that
	// shows one address and names another), and makes characters and bytes one count.
	if strings.ContainsFunc(url, func(r rune) bool { return r <= ' ' || r > '~' }) {
		fe.Add("url", "must be printable ASCII without spaces: percent-encode anything else")
		return
	}
	err := s.deps.CheckURL(ctx, url)
	switch {
	case err == nil:
	case (errors.Is(err, outbound.ErrForbiddenAddress) || errors.Is(err, outbound.ErrUnresolvable)) && namesAHost(url):
		// One answer for every name refused, whatever it resolves to (or whether it resolves at all): the API
		// must not tell its callers which internal names exist, nor what they point at.
		fe.Add("url", "must name a host that resolves to public addresses only")
	default:
		fe.Add("url", err.Error())
	}
}

// namesAHost reports whether raw's host is a name rather than an IP address written out.
func namesAHost(raw string) bool {
	u, err := neturl.Parse(raw)
	if err != nil {
		return false
	}
	_, err = netip.ParseAddr(strings.Trim(u.Hostname(), "[]"))
	return err != nil
}

func checkDescription(fe core.FieldErrors, d string) {
	if utf8.RuneCountInString(d) > service.WebhookDescriptionMaxLen || !core.ValidText(d) {
		fe.Add("description", fmt.Sprintf("must be at most %d characters of valid text", service.WebhookDescriptionMaxLen))
	}
}

// checkEventTypes records what is wrong with types, and returns EFORBIDDEN when a non-admin asks for a type only
// admins' endpoints take.
func checkEventTypes(fe core.FieldErrors, types []service.WebhookEventType, actor service.Actor) error {
	all := service.WebhookEventTypes()
	if len(types) < 1 || len(types) > len(all) {
		fe.Add("eventTypes", fmt.Sprintf("must name 1 to %d event types", len(all)))
		return nil
	}
	seen := make(map[service.WebhookEventType]bool, len(types))
	var forbidden error
	for _, t := range types {
		switch {
		case !known(t):
			fe.Add("eventTypes", "holds an unknown event type")
			return nil
		case seen[t]:
			fe.Add("eventTypes", "names an event type twice")
			return nil
		case t.AdminOnly() && !actor.IsAdmin():
			forbidden = &service.Error{Code: service.EFORBIDDEN, Message: "Only an admin's endpoint may take user, payment and subscription events.",
				Fields: map[string][]string{"eventTypes": {"holds an event type for admins only"}}}
		}
		seen[t] = true
	}
	return forbidden
}

// known reports whether t is an event type.
func known(t service.WebhookEventType) bool { return slices.Contains(service.WebhookEventTypes(), t) }

func typeStrings(types []service.WebhookEventType) []string {
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = string(t)
	}
	return out
}

func toEndpoint(r db.WebhookEndpoint) service.WebhookEndpoint {
	types := make([]service.WebhookEventType, len(r.EventTypes))
	for i, t := range r.EventTypes {
		types[i] = service.WebhookEventType(t)
	}
	return service.WebhookEndpoint{
		ID: r.ID, OwnerID: r.OwnerID, URL: r.Url, Description: r.Description, EventTypes: types, Enabled: r.Enabled,
		DisabledReason: r.DisabledReason, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}
