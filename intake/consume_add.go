package intake

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/store"
)

// addStable adds every file that has been complete for the settle time, Workers at a time,
// and returns when they are done.
func (c *Consumer) addStable(ctx context.Context) {
	now := c.o.Now()
	var ready []string
	c.mu.Lock()
	for rel, t := range c.files {
		if !t.busy && !t.stuck && !now.Before(t.since.Add(c.o.Settle)) && !now.Before(t.wait) {
			t.busy = true
			ready = append(ready, rel)
		}
	}
	c.mu.Unlock()
	sort.Strings(ready) // oldest names first is what a scanner's numbering gives
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range min(c.o.Workers, len(ready)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rel := range jobs {
				c.consume(ctx, rel)
			}
		}()
	}
	for _, rel := range ready {
		jobs <- rel
	}
	close(jobs)
	wg.Wait()
}

// outcome is what became of one attempt at a file.
type outcome int

const (
	gone    outcome = iota // the file left the folder (added, moved aside, removed by someone)
	changed                // the file changed: it settles again
	later                  // held elsewhere or a dependency failed: look again after wait
	stuck                  // refused, and could not be moved aside
)

// consume takes one settled file through claim, add and removal, and updates its tracking.
func (c *Consumer) consume(ctx context.Context, rel string) {
	c.mu.Lock()
	t := *c.files[rel]
	userID := c.users[t.username]
	c.mu.Unlock()
	out, wait := c.attempt(ctx, rel, t.key, userID)
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, ok := c.files[rel]
	if !ok {
		return
	}
	cur.busy = false
	switch out {
	case gone:
		delete(c.files, rel)
	case changed:
		cur.since = c.o.Now()
	case later:
		cur.wait = c.o.Now().Add(wait)
	case stuck:
		cur.stuck = true
	}
	if fi, err := os.Lstat(filepath.Join(c.o.Dir, rel)); err == nil && out != gone {
		if k := keyOf(rel, fi); k != cur.key {
			cur.key, cur.since, cur.wait, cur.stuck = k, c.o.Now(), time.Time{}, false
		}
	}
}

// keyOfPath is keyOf for a path under dir.
func keyOfPath(dir, path string, fi fs.FileInfo) store.ConsumeKey {
	rel, _ := filepath.Rel(dir, path)
	return keyOf(rel, fi)
}

func keyOf(rel string, fi fs.FileInfo) store.ConsumeKey {
	p := filepath.ToSlash(rel)
	if !utf8.ValidString(p) {
		// PostgreSQL keeps only UTF-8 text; such a file is refused for its name, but its
		// claim must still be written first.
		p = "hex:" + hex.EncodeToString([]byte(p))
	}
	return store.ConsumeKey{Path: p, Size: fi.Size(), MtimeNS: fi.ModTime().UnixNano()}
}

// attempt is one try at a settled file. The claim row makes it exactly once across
// replicas and crashes: it names the pending document before any byte is stored and is
// marked done in the step after the commit, and the file is removed only after that; a
// replica that finds a claim whose holder died finishes from where the holder stopped.
func (c *Consumer) attempt(ctx context.Context, rel string, key store.ConsumeKey, userID string) (outcome, time.Duration) {
	path := filepath.Join(c.o.Dir, rel)
	if userID == "" {
		return later, c.o.Rescan // not an active user's folder (now): the rescan looks again
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return gone, 0
	}
	if keyOf(rel, fi) != key {
		return changed, 0
	}
	now := c.o.Now()
	claim, ok, err := c.o.Store.ClaimConsumeFile(ctx, key, userID, c.o.Holder, now.Add(c.o.Lease), now)
	if err != nil {
		c.log.Warn("consume claim failed; retried later", "path", rel, "err", err)
		return later, c.o.Retry
	}
	if !ok {
		return later, c.o.Settle // another replica has it
	}
	log := c.log.With("path", rel, "user_id", userID)
	if claim.Done {
		return c.removeAdded(ctx, path, claim), 0
	}
	if claim.DocumentID != "" {
		committed, err := c.settleEarlier(ctx, claim)
		if err != nil {
			log.Warn("consume claim of a stopped replica not settled; retried later", "err", err)
			return c.deferClaim(ctx, claim), c.o.Retry
		}
		if committed {
			return c.finish(ctx, path, claim), 0
		}
		claim.DocumentID = ""
	}
	f, err := openNoFollow(path)
	if err != nil {
		c.forget(ctx, claim)
		if errors.Is(err, fs.ErrNotExist) {
			return gone, 0
		}
		return c.refused(ctx, path, claim, fmt.Sprintf("the file could not be opened: %v", err)), 0
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || keyOf(rel, fi) != key {
		c.forget(ctx, claim)
		return changed, 0
	}
	d, err := c.o.Ingest.Add(ctx, userID, ingest.File{Filename: filepath.Base(path), Body: f, Size: key.Size,
		Pending: func(ctx context.Context, id string) error {
			claim.DocumentID = id
			return c.o.Store.SetConsumeDocument(ctx, claim, id)
		}})
	switch {
	case err == nil:
		log.Info("consumed", "document_id", d.ID, "size_bytes", d.SizeBytes)
		claim.DocumentID = d.ID
		return c.finish(ctx, path, claim), 0
	case ingest.IsRefusal(err):
		if fi, serr := os.Lstat(path); serr != nil || keyOf(rel, fi) != key {
			c.forget(ctx, claim) // refused because it changed while it was read
			return changed, 0
		}
		log.Info("consume refused", "reason", ingest.Reason(err))
		return c.refused(ctx, path, claim, ingest.Reason(err)), 0
	case errors.Is(err, store.ErrConflict):
		return later, c.o.Settle // the claim was taken over: the file is another replica's now
	default:
		log.Warn("consume failed; retried later", "err", err)
		return c.deferClaim(ctx, claim), c.o.Retry
	}
}

// settleEarlier decides what an earlier holder's document became: committed (true), or
// not, in which case its pending row is discarded so the file is added afresh.
func (c *Consumer) settleEarlier(ctx context.Context, claim store.ConsumeClaim) (bool, error) {
	for range 2 {
		d, err := c.o.Store.Document(ctx, claim.UserID, claim.DocumentID)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if d.Status != store.StatusPending {
			return true, nil
		}
		// Pending: the holder died (or stalled past its lease) before the commit. Discarding
		// only touches a pending row, so a commit that lands meanwhile shows on the re-read.
		c.o.Ingest.Discard(ctx, claim.UserID, claim.DocumentID)
	}
	d, err := c.o.Store.Document(ctx, claim.UserID, claim.DocumentID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if d.Status == store.StatusPending {
		return false, fmt.Errorf("intake: pending document %s could not be discarded", d.ID)
	}
	return true, nil
}

// finish marks the claim done (the document is committed), then removes the file.
func (c *Consumer) finish(ctx context.Context, path string, claim store.ConsumeClaim) outcome {
	if err := c.o.Store.FinishConsume(ctx, claim); err != nil {
		// The claim names the committed document: whoever holds it next removes the file.
		c.log.Warn("consumed file kept until its claim is settled", "path", claim.Path, "err", err)
		return later
	}
	return c.removeAdded(ctx, path, claim)
}

// removeAdded removes a file whose document is committed, unless it changed since (then it
// is a new version, taken on its own), and drops the claim.
func (c *Consumer) removeAdded(ctx context.Context, path string, claim store.ConsumeClaim) outcome {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		c.log.Warn("consumed file not removed", "path", claim.Path, "err", err)
		return later
	case keyOfPath(c.o.Dir, path, fi) != claim.ConsumeKey:
		c.forget(ctx, claim)
		return changed
	default:
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.log.Warn("consumed file not removed", "path", claim.Path, "err", err)
			return later
		}
	}
	c.forget(ctx, claim)
	return gone
}

// refused moves a refused file to its user's .failed/ folder beside a .reason.txt, so it is
// never retried in a loop nor lost.
func (c *Consumer) refused(ctx context.Context, path string, claim store.ConsumeClaim, reason string) outcome {
	rel, _ := filepath.Rel(c.o.Dir, path)
	username, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
	dir := filepath.Join(c.o.Dir, username, ".failed")
	if err := os.MkdirAll(dir, 0o770); err != nil {
		c.log.Error("refused file left in place", "path", claim.Path, "reason", reason, "err", err)
		return stuck
	}
	target := freeName(dir, filepath.Base(path))
	note := fmt.Sprintf("%s\n\nfile: %s\nrefused at: %s\n", reason, strings.ToValidUTF8(filepath.ToSlash(rel), "\uFFFD"), c.o.Now().UTC().Format("2006-01-02 15:04:05 UTC"))
	if err := os.WriteFile(target+".reason.txt", []byte(note), 0o640); err != nil {
		c.log.Error("refused file left in place", "path", claim.Path, "reason", reason, "err", err)
		return stuck
	}
	if err := os.Rename(path, target); err != nil {
		_ = os.Remove(target + ".reason.txt")
		if errors.Is(err, fs.ErrNotExist) {
			c.forget(ctx, claim)
			return gone
		}
		c.log.Error("refused file left in place", "path", claim.Path, "reason", reason, "err", err)
		return stuck
	}
	c.forget(ctx, claim)
	return gone
}

// freeName is dir/name, or dir/name (2), (3)… when taken, with its reason file free too.
func freeName(dir, name string) string {
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 1; ; i++ {
		p := filepath.Join(dir, name)
		if i > 1 {
			p = filepath.Join(dir, fmt.Sprintf("%s (%d)%s", stem, i, ext))
		}
		_, e1 := os.Lstat(p)
		_, e2 := os.Lstat(p + ".reason.txt")
		if errors.Is(e1, fs.ErrNotExist) && errors.Is(e2, fs.ErrNotExist) {
			return p
		}
	}
}

// deferClaim lets the claim run out after Retry, keeping the document it names: the next
// attempt learns from it whether the document was committed.
func (c *Consumer) deferClaim(ctx context.Context, claim store.ConsumeClaim) outcome {
	if err := c.o.Store.DeferConsume(context.WithoutCancel(ctx), claim, c.o.Now().Add(c.o.Retry)); err != nil {
		c.log.Warn("consume claim kept for its lease", "path", claim.Path, "err", err)
	}
	return later
}

func (c *Consumer) forget(ctx context.Context, claim store.ConsumeClaim) {
	if err := c.o.Store.ForgetConsume(context.WithoutCancel(ctx), claim); err != nil {
		c.log.Warn("consume claim left to run out", "path", claim.Path, "err", err)
	}
}
