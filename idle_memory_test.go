package main

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
)

// sink keeps the test's garbage from being optimised away.
var sink []byte

// TestIdleMemoryReleasesOncePerIdleSpell: nothing is released while requests keep coming;
// after idleRelease without one the heap's free memory goes back to the OS once, and again
// only after a new request and a new idle spell.
func TestIdleMemoryReleasesOncePerIdleSpell(t *testing.T) {
	m := &idleMemory{}
	h := m.track(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	request := func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)) }
	request()
	start := time.Now()
	if m.releaseIfIdle(start.Add(idleRelease / 2)) {
		t.Fatal("released while requests are recent")
	}
	// Garbage the release can hand back: the released bytes must grow.
	for range 64 {
		sink = make([]byte, 1<<20)
	}
	sink = nil
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if !m.releaseIfIdle(start.Add(idleRelease + time.Second)) {
		t.Fatal("not released after an idle spell")
	}
	runtime.ReadMemStats(&after)
	if after.HeapReleased <= before.HeapReleased {
		t.Fatalf("heap released %d bytes before, %d after", before.HeapReleased, after.HeapReleased)
	}
	if m.releaseIfIdle(start.Add(3 * idleRelease)) {
		t.Fatal("released twice in one idle spell")
	}
	request()
	if m.releaseIfIdle(time.Now()) {
		t.Fatal("released right after a request")
	}
	if !m.releaseIfIdle(time.Now().Add(idleRelease)) {
		t.Fatal("not released after the next idle spell")
	}
}
