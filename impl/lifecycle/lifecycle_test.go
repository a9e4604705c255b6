package lifecycle

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

type recorder struct {
	name    string
	log     *[]string
	failOn  string
	started context.Context
}

func (r *recorder) Start(ctx context.Context) error {
	r.started = ctx
	if r.failOn == "start" {
		return errors.New("no")
	}
	*r.log = append(*r.log, "start "+r.name)
	return nil
}

func (r *recorder) Stop(context.Context) error {
	*r.log = append(*r.log, "stop "+r.name)
	if r.failOn == "stop" {
		return errors.New("no")
	}
	return nil
}

func TestGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fail    map[string]string // component name: "start" or "stop"
		wantErr string
		want    []string
	}{
		{"starts in order and stops in reverse", nil, "", []string{"start a", "start b", "start c", "stop c", "stop b", "stop a"}},
		{"a failed start stops what started, in reverse", map[string]string{"c": "start"}, "start c: no",
			[]string{"start a", "start b", "stop b", "stop a"}},
		{"a failed stop does not keep the others running", map[string]string{"b": "stop"}, "stop b: no",
			[]string{"start a", "start b", "start c", "stop c", "stop b", "stop a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log []string
			g := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
			var cs []Named
			for _, n := range []string{"a", "b", "c"} {
				cs = append(cs, Named{Name: n, Component: &recorder{name: n, log: &log, failOn: tt.fail[n]}})
			}
			ctx, cancel := context.WithCancel(context.Background())
			err := g.Start(ctx, cs...)
			cancel()
			if err == nil {
				require.NoError(t, cs[0].Component.(*recorder).started.Err(), "a component's context is not cancelled with the caller's")
				err = g.Stop(context.Background())
			}
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tt.wantErr)
			}
			require.Equal(t, tt.want, log)
			require.NoError(t, g.Stop(context.Background()), "a second stop has nothing left to stop")
		})
	}
}
