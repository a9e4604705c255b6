package service

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestEventsFireOnCommitOnly: an event sent in a transaction that rolls back never reaches a listener; one sent
// in a transaction that commits does.
func TestEventsFireOnCommitOnly(t *testing.T) {
	t.Parallel()
	s, _ := newTestService(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan Event, 10)
	go func() {
		_ = s.Listen(ctx, func(e Event) {
			if e.Kind != EventResync && e.Kind != EventUserChanged { // the listener's own, for sessions
				got <- e
			}
		})
	}()

	// Wait until the listener is up: committed probes until one arrives.
	probe := Event{Kind: "probe", ID: uuid.New()}
	require.Eventually(t, func() bool {
		require.NoError(t, s.inTx(ctx, func(tx pgx.Tx) error { return s.notify(ctx, tx, probe) }))
		select {
		case <-got:
			return true
		case <-time.After(100 * time.Millisecond):
			return false
		}
	}, 10*time.Second, 10*time.Millisecond)
	for len(got) > 0 {
		<-got
	}

	rolledBack := Event{Kind: EventPostCreated, ID: uuid.New()}
	boom := errors.New("boom")
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := s.notify(ctx, tx, rolledBack); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	committed := Event{Kind: EventPostCreated, ID: uuid.New()}
	require.NoError(t, s.inTx(ctx, func(tx pgx.Tx) error { return s.notify(ctx, tx, committed) }))

	select {
	case e := <-got:
		require.Equal(t, committed, e, "the first event after the rollback is the committed one")
	case <-time.After(10 * time.Second):
		t.Fatal("the committed event never arrived")
	}
}
