package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"log/slog"
	"time"
)

// SQLite's automatic checkpoint runs inside the commit that takes the write-ahead log past
// 1,000 pages: that commit copies the log's pages into the database file and syncs it
// while it still holds the write lock. On a large database whose disk is busy with other
// work, one such commit took hundreds of milliseconds, and every writer waited for it
// (renames on a 3 GB database fell from about 1,300/s to 550/s while another process
// wrote to the same disk). The store turns it off (wal_autocheckpoint 0) and checkpoints
// in the background instead: commits only append to the log.
//
// The checkpointer wakes when a write ends, runs a PASSIVE checkpoint on a connection of
// its own (it copies what no reader still needs, beside readers and writers), and waits
// checkpointEvery before it looks again, so a busy log is copied a few times a second and
// a page written many times meanwhile is copied once. Once every frame is copied, the next
// writer starts the log again from its beginning; journal_size_limit then trims the file.
// If the log still holds more than checkpointMaxFrames after a pass (the disk is slower
// than the writes, or readers keep old snapshots open), the next pass holds the write turn
// while it runs, so writers wait for the disk as they did for SQLite's own checkpoint
// rather than grow the log without bound.
const (
	checkpointEvery     = 250 * time.Millisecond
	checkpointMaxFrames = 64 << 10 // 256 MiB of 4 KiB pages
	walSizeLimit        = 64 << 20 // journal_size_limit: what the log's file is trimmed to
)

// checkpointer copies a SQLite database's write-ahead log into its file in the background.
type checkpointer struct {
	connector driver.Connector // of the database, without write turns
	db        *sql.DB
	turns     writeTurns
	every     time.Duration
	maxFrames int
	stop      context.CancelFunc
	done      chan struct{}
	// Tests set these: a pass waits for gate and reports its result on passes.
	gate   chan struct{}
	passes chan checkpointPass
}

// checkpointPass is what one pass found: the frames in the log and how many of them are
// now in the database file (both -1 when the database is not in WAL mode).
type checkpointPass struct {
	Frames, Copied int
	Held           bool // the pass held the write turn
	Err            error
}

// newCheckpointer makes the checkpointer of the database that connector opens, whose
// store's connections take turns through turns; start starts it.
func newCheckpointer(connector driver.Connector, turns writeTurns) *checkpointer {
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	return &checkpointer{connector: connector, db: db, turns: turns, every: checkpointEvery, maxFrames: checkpointMaxFrames}
}

func (c *checkpointer) start() *checkpointer {
	ctx, stop := context.WithCancel(context.Background())
	c.stop, c.done = stop, make(chan struct{})
	go c.run(ctx)
	return c
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	hold, failing := false, false
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.turns.wrote:
		}
		if c.gate != nil {
			select {
			case <-ctx.Done():
				return
			case <-c.gate:
			}
		}
		p := c.pass(ctx, hold)
		switch {
		case ctx.Err() != nil:
		case p.Err != nil && !failing: // said once, not at every write while it lasts
			slog.Warn("sqlite checkpoint failed; the write-ahead log grows until one succeeds", "err", p.Err)
		case p.Err == nil && failing:
			slog.Info("sqlite checkpoint succeeded again", "frames", p.Frames)
		}
		failing = p.Err != nil
		if c.passes != nil {
			select {
			case c.passes <- p:
			case <-ctx.Done():
				return
			}
		}
		hold = p.Frames > c.maxFrames
		select {
		case <-ctx.Done():
			return
		case <-time.After(c.every):
		}
	}
}

// pass runs one PASSIVE checkpoint, holding the write turn if hold.
func (c *checkpointer) pass(ctx context.Context, hold bool) checkpointPass {
	p := checkpointPass{Held: hold}
	if hold {
		if p.Err = c.turns.take(ctx); p.Err != nil {
			return p
		}
		defer func() { <-c.turns.turn }() // given back without waking the checkpointer itself
	}
	var busy int
	p.Err = c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &p.Frames, &p.Copied)
	return p
}

// close stops the checkpointer and closes its connection; SQLite checkpoints what is left
// when the last connection to the file closes.
func (c *checkpointer) close() error {
	c.stop()
	<-c.done
	return c.db.Close()
}
