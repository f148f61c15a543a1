package blob

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

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
