// Package apimodel is the one place where the services' types become the contract's (gen/api): the REST handlers
// answer with them, and the outgoing webhooks carry them, so that an event's data is the resource exactly as the
// REST API returns it.
package apimodel

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/junction-dev/junction/gen/api"
	"github.com/junction-dev/junction/impl/service"
)

// User is u as the API shows it: never its password hash, which service.User does not hold.
func User(u service.User) api.User {
	return api.User{Id: u.ID, Name: u.Name, Email: api.Email(u.Email), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// Users converts us with User.
func Users(us []service.User) []api.User { return convert(us, User) }

// Post is p as the API shows it.
func Post(p service.Post) api.Post {
	return api.Post{
		Id: p.ID, AuthorId: p.AuthorID, Title: p.Title, Content: p.Content, Published: p.Published,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, PublishedAt: p.PublishedAt,
	}
}

// Posts converts ps with Post.
func Posts(ps []service.Post) []api.Post { return convert(ps, Post) }

// Comment is c as the API shows it.
func Comment(c service.Comment) api.Comment {
	return api.Comment{Id: c.ID, PostId: c.PostID, AuthorId: c.AuthorID, Content: c.Content, CreatedAt: c.CreatedAt}
}

// Comments converts cs with Comment.
func Comments(cs []service.Comment) []api.Comment { return convert(cs, Comment) }

// Payment is p as the API shows it.
func Payment(p service.Payment) api.Payment {
	return api.Payment{
		Id: p.ID, UserId: p.UserID, Customer: p.Customer, Amount: p.Amount, Currency: p.Currency, Status: p.Status,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

// Subscription is s as the API shows it.
func Subscription(s service.Subscription) api.Subscription {
	return api.Subscription{
		Id: s.ID, UserId: s.UserID, Customer: s.Customer, Status: s.Status, Price: s.Price,
		CurrentPeriodEnd: s.CurrentPeriodEnd, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

// payload is every event type's body: the contract gives each its own component (PostPublishedEvent, …) with the
// same three fields, so one shape encodes them all; the tests decode each type into its component.
type payload struct {
	Type      service.WebhookEventType `json:"type"`
	Timestamp time.Time                `json:"timestamp"`
	Data      any                      `json:"data"`
}

// EncodeWebhook renders m as its event type's payload (openapi.yaml's WebhookPayload): a [service.WebhookEncoder].
// The timestamp is in UTC, to the microsecond as the database keeps times. An event type names the resource it
// carries before its dot (post.updated carries a Post), and m.Data must be that resource.
func EncodeWebhook(m service.WebhookMessage) ([]byte, error) {
	var data any
	var resource string
	switch d := m.Data.(type) {
	case service.Post:
		data, resource = Post(d), "post"
	case service.Comment:
		data, resource = Comment(d), "comment"
	case service.User:
		data, resource = User(d), "user"
	case service.Payment:
		data, resource = Payment(d), "payment"
	case service.Subscription:
		data, resource = Subscription(d), "subscription"
	case service.WebhookTestData:
		data, resource = api.WebhookTest{EndpointId: d.EndpointID, Message: d.Message}, "webhook"
	default:
		return nil, fmt.Errorf("apimodel: no webhook payload for %T", m.Data)
	}
	if prefix, _, _ := strings.Cut(string(m.Type), "."); prefix != resource {
		return nil, fmt.Errorf("apimodel: %s does not carry a %s", m.Type, resource)
	}
	at := m.At.UTC().Truncate(time.Microsecond)
	body, err := json.Marshal(payload{Type: m.Type, Timestamp: at, Data: data})
	if err != nil {
		return nil, fmt.Errorf("apimodel: encode %s: %w", m.Type, err)
	}
	return body, nil
}

func convert[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
