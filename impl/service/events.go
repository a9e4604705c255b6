package service

import "github.com/google/uuid"

// EventKind says what an [Event] announces.
type EventKind string

// The kinds of [Event].
const (
	EventPostCreated  EventKind = "post_created"
	EventCommentAdded EventKind = "comment_added"
	// EventUserChanged says that user ID was deleted, or their role or password changed (a trigger on users,
	// migrations/00006 and 00008). It is delivered in commit order with the others, after the authentication
	// cache forgot the user: a session that outlives a request (accounts' Recheck) hears of the change before
	// any event committed after it.
	EventUserChanged EventKind = "user_changed"
	// EventResync says that any user may have changed unheard: the listener (re)connected, and what was sent
	// while it was down is lost, or a user notification could not be read. A listener that keeps sessions
	// rechecks them all.
	EventResync EventKind = "resync"
)

// Event says that something became visible to everyone: a post published, or a comment on a published post; or,
// from the listener only, that a user changed. It carries ids only (NOTIFY payloads are small); whoever handles
// it reads what they need.
type Event struct {
	Kind   EventKind `json:"kind"`
	ID     uuid.UUID `json:"id"`
	PostID uuid.UUID `json:"post_id"`
}
