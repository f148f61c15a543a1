package blob

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// folderSyncs syncs folders for concurrent writers with as few syncs as they allow: a
// writer that renamed a file into a folder needs a sync of the folder that starts after its
// rename. One writer syncs at a time per folder; the writers that ask meanwhile wait, and
// the next sync covers them all (as a database's group commit covers the transactions
// that wait for it). Many uploads of one user land in one folder.
type folderSyncs struct {
	mu      sync.Mutex
	folders map[string]*folderSync
	syncFn  func(dir string) error // syncDir, unless a test watches
}

// folderSync counts the requests for a sync of one folder, and how many of them a
// finished sync covers.
type folderSync struct {
	asked, synced uint64
	running       bool
	done          *sync.Cond
}

// sync returns once a sync of dir that started after the call has succeeded, or with the
// error of a sync this call ran itself. (A failed sync covers nobody: each writer it would
// have covered tries again.)
func (f *folderSyncs) sync(dir string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.folders == nil {
		f.folders = map[string]*folderSync{}
	}
	s := f.folders[dir]
	if s == nil {
		s = &folderSync{done: sync.NewCond(&f.mu)}
		f.folders[dir] = s
	}
	s.asked++
	me := s.asked
	for s.synced < me {
		if s.running {
			s.done.Wait()
			continue
		}
		s.running = true
		covers := s.asked // every writer that asked so far renamed its file before this sync
		f.mu.Unlock()
		syncFn := f.syncFn
		if syncFn == nil {
			syncFn = syncDir
		}
		err := syncFn(dir)
		f.mu.Lock()
		s.running = false
		if err == nil {
			s.synced = covers
		}
		s.done.Broadcast()
		if err != nil {
			f.forget(dir, s)
			return err
		}
	}
	f.forget(dir, s)
	return nil
}

// forget drops the count of dir once no writer waits for it (f.mu held).
func (f *folderSyncs) forget(dir string, s *folderSync) {
	if !s.running && s.synced == s.asked && f.folders[dir] == s {
		delete(f.folders, dir)
	}
}

// syncDir makes the entries of a folder durable (a rename into it, a file created in it):
// the file's own fsync does not cover the name that points to it.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("blob: open folder for sync: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("blob: sync folder %s: %w", dir, err)
	}
	return nil
}

// mkdirDurable creates dir and its missing parents below the store's root, syncing the
// parent of every folder it creates, so a renamed file is not lost with a folder that was
// never written down. A folder already there costs one stat.
func (l *Local) mkdirDurable(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("blob: folder %s: %w", dir, err)
	}
	parent := filepath.Dir(dir)
	if parent == dir || !l.inside(parent) {
		return l.healthy() // the root itself is missing: a fault to report, not to repair
	}
	if err := l.mkdirDurable(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o750); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("blob: create folder %s: %w", dir, err)
	}
	return syncDir(parent)
}

// inside tells whether p is the root or below it.
func (l *Local) inside(p string) bool {
	rel, err := filepath.Rel(l.root, p)
	return err == nil && rel != ".." && !filepath.IsAbs(rel) && (len(rel) < 3 || rel[:3] != ".."+string(filepath.Separator))
}
