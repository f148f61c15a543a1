package server

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	p := PasswordParams{Memory: 2048, Time: 2, Threads: 1}
	h, err := HashPassword("correct horse battery", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=2048,t=2,p=1$") {
		t.Fatalf("hash %q does not carry its parameters", h)
	}
	if ok, err := CheckPassword(h, "correct horse battery"); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, _ := CheckPassword(h, "correct horse batterY"); ok {
		t.Fatal("wrong password accepted")
	}
	// A hash made with other costs still verifies (costs can be raised later).
	h2, _ := HashPassword("x", PasswordParams{Memory: 1024, Time: 1, Threads: 1})
	if ok, _ := CheckPassword(h2, "x"); !ok {
		t.Fatal("old-cost hash rejected")
	}
	for _, bad := range []string{"", "$2a$10$abc", "$argon2id$v=19$m=x$a$b", "$argon2id$v=18$m=1,t=1,p=1$AAAA$AAAA"} {
		if _, err := CheckPassword(bad, "x"); !errors.Is(err, errBadHash) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if a, b := RandomPassword(), RandomPassword(); len(a) != 20 || a == b {
		t.Fatalf("random passwords %q %q", a, b)
	}
}

func TestHashLimiterBoundsConcurrency(t *testing.T) {
	l := make(hashLimiter, 1)
	l <- struct{}{} // the only slot is busy
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.check(ctx, "$argon2id$v=19$m=8,t=1,p=1$AAAA$AAAA", "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("check ran past a full limiter: %v", err)
	}
	<-l
	if _, err := l.check(context.Background(), "$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAA", "x"); err != nil {
		t.Fatalf("free limiter: %v", err)
	}
}

// TestDummyHashCostsLikeARealOne: the hash unknown users are checked against carries the
// configured costs, parses like a real one, matches no password, and differs per start.
func TestDummyHashCostsLikeARealOne(t *testing.T) {
	p := PasswordParams{Memory: 2048, Time: 2, Threads: 1}
	d, err := dummyHash(p)
	if err != nil {
		t.Fatal(err)
	}
	real, _ := HashPassword("x", p)
	if !strings.HasPrefix(d, "$argon2id$v=19$m=2048,t=2,p=1$") || len(d) != len(real) {
		t.Fatalf("dummy %q does not look like %q", d, real)
	}
	for _, pw := range []string{"", "x", "not-a-real-password"} {
		if ok, err := CheckPassword(d, pw); ok || err != nil {
			t.Fatalf("dummy hash check of %q: %v %v", pw, ok, err)
		}
	}
	if d2, _ := dummyHash(p); d2 == d {
		t.Fatal("two dummy hashes are equal")
	}
}
