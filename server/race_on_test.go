//go:build race

package server_test

// raceDetector: the race detector slows every goroutine several times over, so load tests
// scale down to measure the same property.
const raceDetector = true
