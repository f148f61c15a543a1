package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/classify"
	"github.com/docuvault/docuvault/store"
)

// TestClassifyEvalCommand: `classify eval` reports on a corpus folder and on a user's
// corrected documents; wrong flags are usage errors.
func TestClassifyEvalCommand(t *testing.T) {
	dir := t.TempDir()
	env := envMap("DOCUVAULT_SERVER_DATA_DIR", dir)
	run := func(args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := runContext(context.Background(), args, &stdout, &stderr, env)
		return code, stdout.String() + stderr.String()
	}
	code, out := run("classify", "eval", "-corpus", filepath.Join("classify", "testdata", "corpus"), "-folds", "3")
	if code != 0 || !strings.Contains(out, "== names and descriptions alone") || !strings.Contains(out, "3-fold") ||
		!strings.Contains(out, "top-1 accuracy") || !strings.Contains(out, "invoices") || !strings.Contains(out, "most frequent mistakes") {
		t.Fatalf("corpus: %d %s", code, out)
	}
	for _, bad := range [][]string{{"classify"}, {"classify", "eval"}, {"classify", "eval", "-user", "a", "-corpus", "b"},
		{"classify", "eval", "-corpus", "x", "-folds", "1"}} {
		if code, out := run(bad...); code != 2 {
			t.Fatalf("%v: %d %s", bad, code, out)
		}
	}
	if code, out := run("classify", "eval", "-corpus", t.TempDir()); code != 1 || !strings.Contains(out, "two topic folders") {
		t.Fatalf("empty corpus: %d %s", code, out)
	}

	// A user who corrected four documents into two topics.
	if code, out := run("migrate", "up"); code != 0 {
		t.Fatalf("migrate: %d %s", code, out)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.SQLite, filepath.Join(dir, "docuvault.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.CreateUser(ctx, store.NewUser{Username: "alice", PasswordHash: "x", Role: store.RoleUser, LimitBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	bills, _ := st.CreateTopic(ctx, &u.ID, "Bills", "")
	trips, _ := st.CreateTopic(ctx, &u.ID, "Trips", "")
	for i, text := range []string{"electricity meter kwh", "gas meter kwh", "flight hotel boarding", "hotel flight luggage"} {
		d, err := st.CreatePending(ctx, u.ID, "d.txt", "text/plain", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ConfirmUpload(ctx, u.ID, d.ID, 1, ""); err != nil {
			t.Fatal(err)
		}
		j, err := st.ClaimNext(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CompleteJob(ctx, j, text, nil, nil); err != nil {
			t.Fatal(err)
		}
		ids := []string{bills.ID}
		if i >= 2 {
			ids = []string{trips.ID}
		}
		if _, err := st.UpdateDocument(ctx, u.ID, d.ID, store.DocumentPatch{TopicIDs: &ids, Terms: classify.Terms}); err != nil {
			t.Fatal(err)
		}
	}
	code, out = run("classify", "eval", "-user", "alice", "-folds", "0")
	if code != 0 || !strings.Contains(out, "documents 4") || !strings.Contains(out, "4-fold") || !strings.Contains(out, "Bills") {
		t.Fatalf("user: %d %s", code, out)
	}
	if code, out := run("classify", "eval", "-user", "nobody"); code != 1 || !strings.Contains(out, "nobody") {
		t.Fatalf("unknown user: %d %s", code, out)
	}
}
