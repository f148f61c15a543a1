// Package intake brings in documents that arrive without a browser. Consume folders: a
// scanner drops files into consume_dir/<username>/, and each file, once complete, becomes
// that user's document through the same ingest path as an upload.
package intake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/store"
)

// Adder is the ingest path a consumer hands files to (*ingest.Service).
type Adder interface {
	Add(ctx context.Context, userID string, f ingest.File) (store.Document, error)
	Discard(ctx context.Context, userID, documentID string)
}

// ConsumeOptions wire a Consumer.
type ConsumeOptions struct {
	Dir     string // consume_dir: one subfolder per user
	Store   *store.Store
	Ingest  Adder
	Logger  *slog.Logger
	Settle  time.Duration    // size and mtime unchanged this long: the file is complete (default 5 s)
	Rescan  time.Duration    // full walk, for network shares where inotify sees nothing (default 1 min)
	Lease   time.Duration    // a claim this old is another replica's to take over (default 10 min)
	Retry   time.Duration    // wait after a failed dependency (default 1 min)
	Workers int              // files added at once (default 4)
	Now     func() time.Time // injected clock
	Holder  string           // this replica's name in claims (default random)
}

// Consumer watches a consume folder.
type Consumer struct {
	o   ConsumeOptions
	log *slog.Logger

	mu      sync.Mutex
	files   map[string]*tracked // by path relative to Dir
	users   map[string]string   // username → user id, from the last rescan
	watcher *fsnotify.Watcher   // nil outside Run
	watched map[string]bool
}

// tracked is what the consumer knows of one file it saw.
type tracked struct {
	key      store.ConsumeKey
	username string
	since    time.Time // when key was first seen as it is
	wait     time.Time // not before (held elsewhere, failed dependency)
	busy     bool      // being added now
	stuck    bool      // refused but could not be moved aside: left until it changes
}

// NewConsumer checks the options and fills in defaults.
func NewConsumer(o ConsumeOptions) (*Consumer, error) {
	if o.Dir == "" || o.Store == nil || o.Ingest == nil {
		return nil, errors.New("intake: a consume folder, a store and an ingest path are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Settle <= 0 {
		o.Settle = 5 * time.Second
	}
	if o.Rescan <= 0 {
		o.Rescan = time.Minute
	}
	if o.Lease <= 0 {
		o.Lease = 10 * time.Minute
	}
	if o.Retry <= 0 {
		o.Retry = time.Minute
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Holder == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		host, _ := os.Hostname()
		o.Holder = host + "-" + hex.EncodeToString(b)
	}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("intake: consume folder: %w", err)
	}
	return &Consumer{o: o, log: o.Logger.With("component", "consume"), files: map[string]*tracked{}, watched: map[string]bool{}}, nil
}

// Ignored tells whether a file name is a hidden or temporary file that is never taken.
func Ignored(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~$") ||
		strings.HasSuffix(name, ".part") || strings.HasSuffix(name, ".tmp")
}

// Run watches the folder until ctx ends: fsnotify events and a periodic rescan find files;
// complete ones are added by Workers at a time. It returns once nothing is in flight.
func (c *Consumer) Run(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		c.log.Warn("consume folder events unavailable; rescans only", "err", err)
	} else {
		defer w.Close()
		c.mu.Lock()
		c.watcher = w
		c.mu.Unlock()
		c.watch(c.o.Dir)
	}
	c.rescan(ctx)
	check := time.NewTicker(max(c.o.Settle/5, 10*time.Millisecond))
	defer check.Stop()
	rescan := time.NewTicker(c.o.Rescan)
	defer rescan.Stop()
	var events chan fsnotify.Event
	var errs chan error
	if w != nil {
		events, errs = w.Events, w.Errors
	}
	work := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // adds run beside the event loop, so events are never left waiting
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-work:
				c.addStable(ctx)
			}
		}
	}()
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			c.event(ctx, ev)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			c.log.Warn("consume folder events lost; the next rescan finds the files", "err", err)
		case <-rescan.C:
			c.rescan(ctx)
		case <-check.C:
			select {
			case work <- struct{}{}:
			default: // a pass is under way; the next tick looks again
			}
		}
	}
}

// Scan walks the folder once and adds every file that is complete, returning when they are
// done (tests drive the consumer with it and an injected clock).
func (c *Consumer) Scan(ctx context.Context) {
	c.rescan(ctx)
	c.addStable(ctx)
}

// event handles one fsnotify event: a new folder is watched and walked, a file is looked at.
func (c *Consumer) event(ctx context.Context, ev fsnotify.Event) {
	rel, err := filepath.Rel(c.o.Dir, ev.Name)
	if err != nil || rel == "." {
		return
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		c.mu.Lock()
		if t, ok := c.files[rel]; ok && !t.busy {
			delete(c.files, rel) // a busy one is settled by its attempt
		}
		c.mu.Unlock()
		return
	}
	fi, err := os.Lstat(ev.Name)
	if err != nil {
		return
	}
	if fi.IsDir() {
		if !hiddenPath(rel) {
			c.watch(ev.Name)
			c.walk(ctx, ev.Name)
		}
		return
	}
	c.observe(rel, fi)
}

// hiddenPath tells whether any element of rel is hidden (.failed/ and the like).
func hiddenPath(rel string) bool {
	for _, part := range strings.Split(filepath.ToSlash(rel), "/") {
		if strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}

func (c *Consumer) watch(dir string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.watcher == nil || c.watched[dir] {
		return
	}
	if err := c.watcher.Add(dir); err != nil {
		c.log.Warn("consume folder not watched; rescans find its files", "dir", dir, "err", err)
		return
	}
	c.watched[dir] = true
}

// rescan makes the folders of active users, then walks every one of them.
func (c *Consumer) rescan(ctx context.Context) {
	users, err := c.o.Store.ConsumeUsers(ctx)
	if err != nil {
		c.log.Warn("consume folder rescan skipped", "err", err)
		return
	}
	c.mu.Lock()
	c.users = users
	c.mu.Unlock()
	for name := range users {
		if filepath.Base(name) != name || strings.HasPrefix(name, ".") {
			continue // not a folder name
		}
		dir := filepath.Join(c.o.Dir, name)
		if err := os.MkdirAll(dir, 0o770); err != nil {
			c.log.Warn("consume folder not made", "dir", dir, "err", err)
			continue
		}
		c.watch(dir)
		c.walk(ctx, dir)
	}
	// Forget files that left the folder by other hands.
	c.mu.Lock()
	defer c.mu.Unlock()
	for rel, t := range c.files {
		if _, err := os.Lstat(filepath.Join(c.o.Dir, rel)); errors.Is(err, fs.ErrNotExist) && !t.busy {
			delete(c.files, rel)
		}
	}
}

// walk looks at every file under dir, skipping hidden folders; folders are watched.
func (c *Consumer) walk(ctx context.Context, dir string) {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || ctx.Err() != nil {
			return nil //nolint:nilerr // an unreadable entry is skipped; the next rescan tries again
		}
		if d.IsDir() {
			if path != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			c.watch(path)
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil //nolint:nilerr // gone meanwhile
		}
		if rel, err := filepath.Rel(c.o.Dir, path); err == nil {
			c.observe(rel, fi)
		}
		return nil
	})
}

// observe records what a file looks like now; a change restarts its settle time.
func (c *Consumer) observe(rel string, fi fs.FileInfo) {
	username, _, ok := strings.Cut(filepath.ToSlash(rel), "/")
	if !ok || !fi.Mode().IsRegular() || Ignored(fi.Name()) || hiddenPath(rel) {
		return
	}
	key := keyOf(rel, fi)
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.files[rel]; ok {
		if t.key != key && !t.busy {
			t.key, t.since, t.wait, t.stuck = key, c.o.Now(), time.Time{}, false
		}
		return
	}
	c.files[rel] = &tracked{key: key, username: username, since: c.o.Now()}
}
