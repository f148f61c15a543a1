package server

import (
	"net/http"
	"sync"
)

// uploadLimiter caps the uploads one user streams through this server at once (local PUTs
// and one-shot uploads), so one account cannot hold every connection and file descriptor.
type uploadLimiter struct {
	mu     sync.Mutex
	max    int
	active map[string]int
}

func newUploadLimiter(max int) *uploadLimiter {
	return &uploadLimiter{max: max, active: map[string]int{}}
}

// acquire takes a slot for userID, or answers 429 with Retry-After; release gives it back.
func (l *uploadLimiter) acquire(w http.ResponseWriter, userID string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.active[userID] >= l.max {
		w.Header().Set("Retry-After", "1")
		return nil, fail(http.StatusTooManyRequests, "too many uploads in progress for this account; retry when one finishes")
	}
	l.active[userID]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.active[userID]--; l.active[userID] <= 0 {
				delete(l.active, userID)
			}
		})
	}, nil
}
