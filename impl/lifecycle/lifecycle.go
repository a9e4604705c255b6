// Package lifecycle starts a process's background components in one order and stops them in the reverse, so that
// each component starts after what it uses and stops before it: cmd/junction and the tests run the same sequence.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// Component is something that runs in the background between Start and Stop. Start returns once the component
// runs (it may keep working in goroutines of its own); Stop ends it and waits, until ctx ends, for its work to
// finish.
type Component interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Named is a component with the name its owner logs it by.
type Named struct {
	Name string
	Component
}

// Group runs components in order. It is safe for concurrent use.
type Group struct {
	logger *slog.Logger

	mu      sync.Mutex
	started []Named
}

// New returns an empty Group that logs to logger.
func New(logger *slog.Logger) *Group { return &Group{logger: logger} }

// Start starts cs in order, after any started before. Should one fail, the ones this call started are stopped, in
// reverse, and the error returned. The components get ctx without its cancellation: only Stop ends them, in
// order, so a signal that cancels ctx cannot stop them all at once.
func (g *Group) Start(ctx context.Context, cs ...Named) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := len(g.started)
	for _, c := range cs {
		if err := c.Start(context.WithoutCancel(ctx)); err != nil {
			err = fmt.Errorf("start %s: %w", c.Name, err)
			rest := g.started[n:]
			g.started = g.started[:n]
			return errors.Join(err, g.stop(ctx, rest))
		}
		g.logger.DebugContext(ctx, "started", "component", c.Name)
		g.started = append(g.started, c)
	}
	return nil
}

// Stop stops every started component, the last started first, and returns what failed. Each component gets the
// time left in ctx.
func (g *Group) Stop(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	err := g.stop(ctx, g.started)
	g.started = nil
	return err
}

func (g *Group) stop(ctx context.Context, cs []Named) error {
	var errs []error
	for i := len(cs) - 1; i >= 0; i-- {
		if err := cs[i].Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", cs[i].Name, err))
			continue
		}
		g.logger.DebugContext(ctx, "stopped", "component", cs[i].Name)
	}
	return errors.Join(errs...)
}

// Funcs is a Component made of two functions, for parts whose methods are named otherwise.
type Funcs struct {
	StartFunc func(ctx context.Context) error
	StopFunc  func(ctx context.Context) error
}

// Start calls StartFunc.
func (f Funcs) Start(ctx context.Context) error { return f.StartFunc(ctx) }

// Stop calls StopFunc.
func (f Funcs) Stop(ctx context.Context) error { return f.StopFunc(ctx) }
