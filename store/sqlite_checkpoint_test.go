package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// checkpointStore opens a SQLite store whose checkpointer reports each pass to the test and
// keeps at most maxFrames in the log before it holds the write turn.
func checkpointStore(t *testing.T, maxFrames int) (*Store, func() checkpointPass) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, SQLite, filepath.Join(t.TempDir(), "ckpt.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	// The store's own checkpointer is replaced by one the test hears from.
	own := s.db.ckpt
	if err := own.close(); err != nil {
		t.Fatal(err)
	}
	c := newCheckpointer(own.connector, own.turns)
	c.every, c.maxFrames = time.Millisecond, maxFrames
	c.gate, c.passes = make(chan struct{}), make(chan checkpointPass)
	s.db.ckpt = c.start()
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE filler (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	return s, func() checkpointPass { return nextPass(t, c) }
}

// fill writes about pages pages of 4 KiB in one statement.
func fill(t *testing.T, s *Store, pages int) {
	t.Helper()
	_, err := s.db.ExecContext(context.Background(), `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
		INSERT INTO filler SELECT zeroblob(3900) FROM n`, pages)
	if err != nil {
		t.Fatal(err)
	}
}

// nextPass lets the checkpointer, woken by a write, run its next pass and returns it.
func nextPass(t *testing.T, c *checkpointer) checkpointPass {
	t.Helper()
	select {
	case c.gate <- struct{}{}:
	case <-time.After(30 * time.Second):
		t.Fatal("the checkpointer did not wake within 30 s of a write")
	}
	select {
	case p := <-c.passes:
		if p.Err != nil {
			t.Fatalf("checkpoint: %v", p.Err)
		}
		return p
	case <-time.After(30 * time.Second):
		t.Fatal("no checkpoint within 30 s")
		return checkpointPass{}
	}
}

// TestSQLiteCheckpointsOffTheCommitPath: a commit no longer copies the write-ahead log into
// the database (SQLite's automatic checkpoint would have started the log again after 1,000
// pages); the checkpointer does, after the write, and the next write starts the log again.
func TestSQLiteCheckpointsOffTheCommitPath(t *testing.T) {
	s, pass := checkpointStore(t, 1<<30)
	var auto int
	if err := s.db.QueryRowContext(context.Background(), `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil {
		t.Fatal(err)
	}
	if auto != 0 {
		t.Fatalf("wal_autocheckpoint = %d on a store connection, want 0", auto)
	}
	// The checkpointer, woken by the first write, waits for the test: the writes pile up.
	// SQLite's own checkpoint would have copied the log in the third write's commit and
	// started it again in the fourth.
	fill(t, s, 10)
	fill(t, s, 600)
	fill(t, s, 600)
	fill(t, s, 10)
	p := pass()
	if p.Held {
		t.Errorf("a pass held the write turn with a short log: %+v", p)
	}
	if p.Frames < 1200 {
		t.Errorf("the log held %d frames after writes of 1,220 pages: a commit checkpointed", p.Frames)
	}
	if p.Copied != p.Frames {
		t.Errorf("the checkpoint copied %d of %d frames with no reader in the way", p.Copied, p.Frames)
	}
	fill(t, s, 10)
	if again := pass(); again.Frames >= p.Frames || again.Copied != again.Frames {
		t.Errorf("after a full checkpoint the next write did not start the log again: %+v after %+v", again, p)
	}
	var n int
	if err := s.db.QueryRowContext(context.Background(), `SELECT count(*) FROM filler`).Scan(&n); err != nil || n != 1230 {
		t.Fatalf("rows after the checkpoints: %d, %v; want 1230", n, err)
	}
}

// TestSQLiteCheckpointHoldsWritersWhenTheLogRunsLong: once a pass leaves more than the
// limit in the log, the next one runs holding the write turn, and writers carry on after it.
func TestSQLiteCheckpointHoldsWritersWhenTheLogRunsLong(t *testing.T) {
	s, pass := checkpointStore(t, 100)
	fill(t, s, 500)
	p := pass()
	if p.Held || p.Frames <= 100 {
		t.Fatalf("first pass %+v, want an unheld pass over more than 100 frames", p)
	}
	fill(t, s, 10)
	if held := pass(); !held.Held {
		t.Errorf("the pass after a log of %d frames (limit 100) did not hold the write turn: %+v", p.Frames, held)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO filler VALUES (x'00')`); err != nil {
		t.Fatalf("a write after the held pass: %v", err)
	}
	if short := pass(); short.Held {
		t.Errorf("the pass after a short log held the write turn: %+v", short)
	}
}
