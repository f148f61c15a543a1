package main

import (
	"context"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// idleRelease is how long the server goes without a request before the memory its last
// requests left behind is handed back to the operating system.
const idleRelease = 5 * time.Second

// idleMemory hands the Go heap's free memory back to the operating system once the server
// has been idle for idleRelease: the runtime's own scavenger returns it only slowly, so a
// burst of requests (or the start-up work) would otherwise keep its peak resident while the
// instance idles, which on a small machine is most of the time. One release per idle spell.
type idleMemory struct {
	last     atomic.Int64 // UnixNano of the latest request
	released atomic.Bool  // since the latest request
}

// track notes each request.
func (m *idleMemory) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.last.Store(time.Now().UnixNano())
		m.released.Store(false)
		next.ServeHTTP(w, r)
	})
}

// run releases memory after each idle spell until ctx ends.
func (m *idleMemory) run(ctx context.Context) {
	m.last.Store(time.Now().UnixNano())
	t := time.NewTicker(idleRelease)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			m.releaseIfIdle(now)
		}
	}
}

// releaseIfIdle returns the heap's free memory if nothing was requested for idleRelease
// before now and it was not returned since the latest request; it says whether it did.
func (m *idleMemory) releaseIfIdle(now time.Time) bool {
	if m.released.Load() || now.Sub(time.Unix(0, m.last.Load())) < idleRelease {
		return false
	}
	m.released.Store(true)
	debug.FreeOSMemory()
	return true
}
