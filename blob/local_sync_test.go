package blob

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestFolderSyncsShareSyncs: 64 writers ask at once for a sync of one folder, each after its
// own rename. Every one returns only after a successful sync that started after it asked,
// fewer syncs ran than writers asked, and a failed sync fails only the writer that ran it
// (the others it would have covered get a sync of their own).
func TestFolderSyncsShareSyncs(t *testing.T) {
	var clock atomic.Int64
	var mu sync.Mutex
	var starts []int64 // the clock at the start of each successful sync
	var calls atomic.Int32
	f := &folderSyncs{syncFn: func(dir string) error {
		n := calls.Add(1)
		start := clock.Add(1)
		time.Sleep(2 * time.Millisecond)
		if n == 1 {
			return errors.New("I/O error")
		}
		mu.Lock()
		starts = append(starts, start)
		mu.Unlock()
		return nil
	}}
	const writers = 64
	errs := make([]error, writers)
	asked := make([]int64, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			asked[i] = clock.Add(1) // the rename
			errs[i] = f.sync("/u/alice")
		}()
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			continue
		}
		if !slices.ContainsFunc(starts, func(s int64) bool { return s > asked[i] }) {
			t.Errorf("writer %d (asked at %d) returned with no sync started after it: %v", i, asked[i], starts)
		}
	}
	if failed != 1 {
		t.Errorf("%d writers failed, want the one that ran the failed sync", failed)
	}
	if n := int(calls.Load()); n >= writers || n < 2 {
		t.Errorf("%d syncs for %d writers", n, writers)
	}
	if len(f.folders) != 0 {
		t.Errorf("%d folders still counted after every writer returned", len(f.folders))
	}
	t.Logf("%d syncs for %d writers", calls.Load(), writers)
}
