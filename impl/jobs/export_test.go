package jobs

import (
	"net/http"
)

// NewFanOutWorker returns the fan-out worker as NewClient registers it, sending with client, at most concurrency
// at once, for tests that run a fan-out themselves (with a context of their choosing).
func NewFanOutWorker(eps Endpoints, client *http.Client, concurrency int) *FanOutWorker {
	return &FanOutWorker{svcs: &Services{Endpoints: eps}, sender: newSender(client, noObserver{}, concurrency, nil)}
}
