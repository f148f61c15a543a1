package testenv

import (
	"strings"
	"sync"
)

// SyncBuffer collects log output written by a server goroutine while a test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Reset forgets what was written.
func (s *SyncBuffer) Reset() { s.mu.Lock(); defer s.mu.Unlock(); s.b.Reset() }
