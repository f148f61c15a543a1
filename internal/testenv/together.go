package testenv

import "sync"

// Together runs fn(0) … fn(n-1) on n goroutines released at the same moment (so they really
// race) and returns their results in order.
func Together[T any](n int, fn func(i int) T) []T {
	out := make([]T, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}
