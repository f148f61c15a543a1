package store_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/docuvault/docuvault/store"
)

// TestSessionSaveOnlyWhenItChanges: with a refresh interval, a save of the data a request
// found whose expiry moves less than the interval is left out; changed data, an expiry moved
// further, a save without a find before it, and a store without an interval all write.
func TestSessionSaveOnlyWhenItChanges(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ss := s.Sessions(time.Minute)
		expiryOf := func(token string) time.Time {
			t.Helper()
			var secs float64
			q := `SELECT (expiry - 2440587.5) * 86400.0 FROM sessions WHERE token = $1`
			if s.Dialect() == store.Postgres {
				q = `SELECT extract(epoch FROM expiry)::float8 FROM sessions WHERE token = $1`
			}
			if err := s.DB().QueryRowContext(ctx, q, token).Scan(&secs); err != nil {
				t.Fatal(err)
			}
			return time.Unix(int64(math.Round(secs)), 0)
		}
		find := func(token string, want string) {
			t.Helper()
			b, ok, err := ss.FindCtx(ctx, token)
			if err != nil || !ok || string(b) != want {
				t.Fatalf("find %s: %q %v %v, want %q", token, b, ok, err, want)
			}
		}
		commit := func(st *store.SessionStore, token, data string, expiry time.Time) {
			t.Helper()
			if err := st.CommitCtx(ctx, token, []byte(data), expiry); err != nil {
				t.Fatal(err)
			}
		}
		base := time.Now().Add(24 * time.Hour).Truncate(time.Second)
		commit(ss, "tok", "a", base) // new: written
		if got := expiryOf("tok"); !got.Equal(base) {
			t.Fatalf("new session's expiry %v, want %v", got, base)
		}

		find("tok", "a")
		commit(ss, "tok", "a", base.Add(30*time.Second)) // same data, expiry 30 s on: left out
		if got := expiryOf("tok"); !got.Equal(base) {
			t.Fatalf("an unchanged session was written: expiry %v, want %v", got, base)
		}

		commit(ss, "tok", "a", base.Add(30*time.Second)) // no find before it: written
		if got := expiryOf("tok"); !got.Equal(base.Add(30 * time.Second)) {
			t.Fatalf("a save without a find was left out: expiry %v", got)
		}

		find("tok", "a")
		commit(ss, "tok", "a", base.Add(2*time.Minute)) // expiry moved over a minute: written
		if got := expiryOf("tok"); !got.Equal(base.Add(2 * time.Minute)) {
			t.Fatalf("an expiry moved by 90 s was left out: %v", got)
		}

		find("tok", "a")
		commit(ss, "tok", "b", base.Add(2*time.Minute)) // changed data: written at once
		find("tok", "b")
		commit(ss, "tok", "b", base.Add(2*time.Minute))

		// Without an interval every save is written.
		every := s.Sessions(0)
		if _, _, err := every.FindCtx(ctx, "tok"); err != nil {
			t.Fatal(err)
		}
		commit(every, "tok", "b", base.Add(2*time.Minute+time.Second))
		if got := expiryOf("tok"); !got.Equal(base.Add(2*time.Minute + time.Second)) {
			t.Fatalf("refresh 0 left a save out: %v", got)
		}

		// A destroyed session stays destroyed, whatever a request that found it saves.
		find("tok", "b")
		if err := ss.DeleteCtx(ctx, "tok"); err != nil {
			t.Fatal(err)
		}
		commit(ss, "tok", "c", base.Add(3*time.Minute))
		if _, ok, err := ss.FindCtx(ctx, "tok"); err != nil || ok {
			t.Fatalf("destroyed session found again: %v %v", ok, err)
		}
	})
}

// TestSessionSavesInParallel: many requests of one session at once, none changing it, write
// nothing; a request that changes it meanwhile is written; a token that is not a session
// (NUL bytes, not UTF-8, 100 KB) is simply not found and leaves nothing to remember.
func TestSessionSavesInParallel(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ss := s.Sessions(time.Minute)
		base := time.Now().Add(24 * time.Hour).Truncate(time.Second)
		if err := ss.CommitCtx(ctx, "tok", []byte("a"), base); err != nil {
			t.Fatal(err)
		}
		var g errgroup.Group
		for i := range 32 {
			g.Go(func() error {
				b, ok, err := ss.FindCtx(ctx, "tok")
				if err != nil || !ok {
					return fmt.Errorf("find: %v %v", ok, err)
				}
				return ss.CommitCtx(ctx, "tok", b, base.Add(time.Duration(i)*time.Second))
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		var writes int
		q := `SELECT count(*) FROM sessions WHERE token = 'tok' AND expiry = julianday($1)`
		arg := any(base.UTC().Format("2006-01-02T15:04:05.999"))
		if s.Dialect() == store.Postgres {
			q, arg = `SELECT count(*) FROM sessions WHERE token = 'tok' AND expiry = $1`, base
		}
		if err := s.DB().QueryRowContext(ctx, q, arg).Scan(&writes); err != nil || writes != 1 {
			t.Fatalf("after 32 unchanged saves the stored expiry moved (%d rows at the first, %v)", writes, err)
		}
		if _, _, err := ss.FindCtx(ctx, "tok"); err != nil {
			t.Fatal(err)
		}
		if err := ss.CommitCtx(ctx, "tok", []byte("changed"), base); err != nil {
			t.Fatal(err)
		}
		if b, ok, err := ss.FindCtx(ctx, "tok"); err != nil || !ok || string(b) != "changed" {
			t.Fatalf("changed session reads %q %v %v", b, ok, err)
		}
		for _, tok := range []string{"a\x00b", "\xff\xfe", strings.Repeat("x", 100_000)} {
			if _, ok, err := ss.FindCtx(ctx, tok); err != nil || ok {
				t.Fatalf("token %.10q: found %v, err %v", tok, ok, err)
			}
		}
	})
}
