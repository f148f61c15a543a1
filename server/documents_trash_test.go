package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

type quotaJSON struct {
	UsedBytes  int64 `json:"used_bytes"`
	LimitBytes int64 `json:"limit_bytes"`
	TrashBytes int64 `json:"trash_bytes"`
}

func trashQuota(c *client) quotaJSON {
	var q quotaJSON
	c.call("GET", "/api/auth/me/quota", nil, 200, &q)
	return q
}

type docJSON struct {
	ID        string     `json:"id"`
	Filename  string     `json:"filename"`
	TrashedAt *time.Time `json:"trashed_at"`
}

// TestTrashHidesAndRestores: a trashed document leaves the list and search and appears
// only in the trash, stays charged to the quota (trash_bytes shows its share), can still be
// downloaded and renamed, and comes back on restore; trash and restore are idempotent and
// owner-only.
func TestTrashHidesAndRestores(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		alice, bob := e.member("alice"), e.member("bob")
		gone := uploadBytes(t, alice, "lisbon trip.txt", "text/plain", []byte("twelve bytes"))
		kept := uploadBytes(t, alice, "porto.txt", "text/plain", []byte("four"))
		uploadBytes(t, bob, "lisbon.txt", "text/plain", []byte("bob"))
		before := trashQuota(alice)
		var d docJSON
		alice.call("POST", "/api/documents/"+gone+"/trash", nil, 200, &d)
		if d.TrashedAt == nil || d.ID != gone {
			t.Fatalf("trashed: %+v", d)
		}
		var again docJSON
		alice.call("POST", "/api/documents/"+gone+"/trash", nil, 200, &again)
		if again.TrashedAt == nil || !again.TrashedAt.Equal(*d.TrashedAt) {
			t.Fatalf("trashing again changed trashed_at: %v then %v", d.TrashedAt, again.TrashedAt)
		}
		live, total := listIDs(t, alice, url.Values{})
		if len(live) != 1 || live[0] != kept || total == nil || *total != 1 {
			t.Fatalf("list %v total %v", live, total)
		}
		trash, total := listIDs(t, alice, url.Values{"trashed": {"true"}, "sort": {"name"}})
		if len(trash) != 1 || trash[0] != gone || total == nil || *total != 1 {
			t.Fatalf("trash %v total %v", trash, total)
		}
		if found, _ := listIDs(t, alice, url.Values{"q": {"lisbon"}}); len(found) != 0 {
			t.Fatalf("search finds a trashed document: %v", found)
		}
		if found, _ := listIDs(t, alice, url.Values{"q": {"lisbon"}, "trashed": {"true"}}); len(found) != 1 || found[0] != gone {
			t.Fatalf("search of the trash: %v", found)
		}
		q := trashQuota(alice)
		if q.UsedBytes != before.UsedBytes || q.TrashBytes != 12 || before.TrashBytes != 0 {
			t.Fatalf("quota before %+v, after trash %+v", before, q)
		}
		if code := alice.status("GET", "/api/documents/"+gone+"/download", nil); code != 200 && code != 302 {
			t.Fatalf("download of a trashed document: %d", code)
		}
		alice.call("PATCH", "/api/documents/"+gone, map[string]any{"filename": "renamed.txt"}, 200)
		for _, op := range []string{"trash", "restore"} {
			if code := bob.status("POST", "/api/documents/"+gone+"/"+op, nil); code != 404 {
				t.Fatalf("bob %s of alice's document: %d", op, code)
			}
			if code := e.anonymous().status("POST", "/api/documents/"+gone+"/"+op, nil); code != 401 {
				t.Fatalf("anonymous %s: %d", op, code)
			}
		}
		root := e.admin("root")
		if code := root.status("POST", "/api/documents/"+gone+"/restore", nil); code != 403 {
			t.Fatalf("admin restore: %d", code)
		}
		alice.call("POST", "/api/documents/"+gone+"/restore", nil, 200, &d)
		alice.call("POST", "/api/documents/"+gone+"/restore", nil, 200, &d)
		if d.TrashedAt != nil || d.Filename != "renamed.txt" {
			t.Fatalf("restored: %+v", d)
		}
		if q := trashQuota(alice); q.UsedBytes != before.UsedBytes || q.TrashBytes != 0 {
			t.Fatalf("quota after restore %+v", q)
		}
		if live, total := listIDs(t, alice, url.Values{}); len(live) != 2 || *total != 2 {
			t.Fatalf("after restore: %v %v", live, *total)
		}
		// An unfinished upload cannot be trashed; deleting a trashed document gives its
		// bytes back at once.
		tk := startUpload(t, alice, "half.txt", "text/plain", []byte("abc"))
		alice.call("POST", "/api/documents/"+tk.DocumentID+"/trash", nil, 409)
		alice.call("POST", "/api/documents/"+kept+"/trash", nil, 200)
		alice.call("DELETE", "/api/documents/"+kept, nil, 204)
		if q := trashQuota(alice); q.UsedBytes != 12 || q.TrashBytes != 0 {
			t.Fatalf("quota after deleting a trashed document %+v", q)
		}
		alice.call("POST", "/api/documents/"+kept+"/restore", nil, 404)
		if _, total := listIDs(t, alice, url.Values{"trashed": {"true"}}); *total != 0 {
			t.Fatalf("trash total %d", *total)
		}
	})
}

// TestTrashPurge: the purge job deletes documents trashed longer than the retention, gives
// their bytes back and deletes their objects; younger trash stays. Two servers purging the
// same database at the same moment delete each document, and give its bytes back, once.
func TestTrashPurge(t *testing.T) {
	forEachCombination(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		alice := e.member("alice")
		old1 := uploadBytes(t, alice, "old1.txt", "text/plain", []byte("0123456789"))
		old2 := uploadBytes(t, alice, "old2.txt", "text/plain", []byte("01234"))
		young := uploadBytes(t, alice, "young.txt", "text/plain", []byte("012"))
		live := uploadBytes(t, alice, "live.txt", "text/plain", []byte("0"))
		alice.call("POST", "/api/documents/"+old1+"/trash", nil, 200)
		alice.call("POST", "/api/documents/"+old2+"/trash", nil, 200)
		e.clock.Add(5 * 24 * time.Hour)
		alice.call("POST", "/api/documents/"+young+"/trash", nil, 200)
		e.clock.Add(26 * 24 * time.Hour) // old ones: 31 days in the trash; young: 26
		other, err := server.New(server.Options{Store: e.store, Blobs: e.blobs, Now: e.clock.Now, PasswordParams: cheap,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		cfg := server.JobsConfig{TrashRetention: 30 * 24 * time.Hour}
		errs := testenv.Together(2, func(i int) error {
			return []*server.Server{e.srv, other}[i].RunJob(ctx, cfg, "purge-trash")
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := e.srv.RunJob(ctx, cfg, "drain-deletions"); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{old1, old2} {
			alice.call("GET", "/api/documents/"+id, nil, 404)
			alice.call("POST", "/api/documents/"+id+"/restore", nil, 404)
			if _, _, err := e.blobs.Open(ctx, store.ObjectKeyFor(alice.user.ID, id)); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("object of purged %s: %v", id, err)
			}
		}
		if q := trashQuota(alice); q.UsedBytes != 4 || q.TrashBytes != 3 {
			t.Fatalf("quota after purge %+v (want 4 used, 3 in the trash)", q)
		}
		if trash, total := listIDs(t, alice, url.Values{"trashed": {"true"}}); len(trash) != 1 || trash[0] != young || *total != 1 {
			t.Fatalf("trash after purge %v (total %d)", trash, *total)
		}
		if ids, total := listIDs(t, alice, url.Values{}); len(ids) != 1 || ids[0] != live || *total != 1 {
			t.Fatalf("list after purge %v (total %d)", ids, *total)
		}
		alice.call("POST", "/api/documents/"+young+"/restore", nil, 200)
	})
}

// TestTrashPurgeScheduledOnceAcrossReplicas: two servers sharing one PostgreSQL database
// schedule the purge every 200 ms; the expired document goes, its bytes are given back once,
// and together the replicas run the job at most once a tick.
func TestTrashPurgeScheduledOnceAcrossReplicas(t *testing.T) {
	e := newEnv(t, store.Postgres, "local")
	alice := e.member("alice")
	old := uploadBytes(t, alice, "old.txt", "text/plain", []byte("0123456789"))
	uploadBytes(t, alice, "kept.txt", "text/plain", []byte("0123"))
	alice.call("POST", "/api/documents/"+old+"/trash", nil, 200)
	e.clock.Add(31 * 24 * time.Hour)
	const tick = 200 * time.Millisecond
	var metrics []*server.Metrics
	start := time.Now()
	for i := 0; i < 2; i++ {
		m := server.NewMetrics(e.store.DB(), e.store.QueueDepth, e.store.PendingDeletions)
		srv, err := server.New(server.Options{Store: e.store, Blobs: e.blobs, Now: e.clock.Now, Metrics: m, PasswordParams: cheap,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		jobs, err := srv.StartJobs(server.JobsConfig{DrainInterval: time.Hour, ExpiryInterval: time.Hour, ReconcileInterval: time.Hour,
			PendingTTL: time.Hour, PurgeInterval: tick, TrashRetention: 30 * 24 * time.Hour, Distributed: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = jobs.Stop(context.Background()) })
		metrics = append(metrics, m)
	}
	deadline := time.Now().Add(20 * time.Second)
	for alice.status("GET", "/api/documents/"+old, nil) != 404 {
		if time.Now().After(deadline) {
			t.Fatal("the scheduled purge never removed the expired document")
		}
		time.Sleep(tick / 4) // polls the outcome of a timer-driven job: there is no signal to await
	}
	runs := 0.0
	for _, m := range metrics {
		runs += counterValue(t, m, "docuvault_scheduled_job_runs_total", "job", "purge-trash")
	}
	ticks := float64(time.Since(start) / tick)
	if runs > ticks+1 {
		t.Fatalf("purge-trash ran %v times across 2 replicas in %v ticks", runs, ticks)
	}
	if q := trashQuota(alice); q.UsedBytes != 4 || q.TrashBytes != 0 {
		t.Fatalf("quota after the scheduled purge %+v", q)
	}
}

// TestTrashPurgeRacesRestore: the purge racing a bulk restore of the same expired documents,
// round after round on both databases: no error, no deadlock, each document either purged
// or restored, and the counters agree with the documents.
func TestTrashPurgeRacesRestore(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		alice := e.member("alice")
		cfg := server.JobsConfig{TrashRetention: 30 * 24 * time.Hour}
		for round := 0; round < 4; round++ {
			var ids []string
			for i := 0; i < 6; i++ {
				ids = append(ids, uploadBytes(t, alice, "r.txt", "text/plain", append([]byte{byte('a' + round)}, "0123456789"[:1+i]...)))
			}
			alice.call("POST", "/api/documents/bulk", bulk(ids, "trash"), 200)
			e.clock.Add(31 * 24 * time.Hour)
			reversed := slices.Clone(ids)
			slices.Reverse(reversed)
			results := testenv.Together(3, func(i int) any {
				switch i {
				case 0:
					return e.srv.RunJob(ctx, cfg, "purge-trash")
				case 1:
					return alice.status("POST", "/api/documents/bulk", bulk(reversed, "restore"))
				default:
					return alice.status("POST", "/api/documents/"+ids[2]+"/restore", nil)
				}
			})
			if results[0] != nil {
				t.Fatalf("round %d: purge: %v", round, results[0])
			}
			if c := results[1].(int); c != 200 && c != 404 {
				t.Fatalf("round %d: bulk restore %d", round, c)
			}
			if c := results[2].(int); c != 200 && c != 404 {
				t.Fatalf("round %d: restore %d", round, c)
			}
			checkCounters(t, e, alice.user.ID)
			for _, id := range ids {
				var d docJSON
				switch code := alice.status("GET", "/api/documents/"+id, nil); code {
				case 404:
				case 200:
					alice.call("GET", "/api/documents/"+id, nil, 200, &d)
					if d.TrashedAt != nil && results[1].(int) == 200 {
						t.Fatalf("round %d: %s still trashed after a successful restore", round, id)
					}
				default:
					t.Fatalf("round %d: GET %d", round, code)
				}
			}
		}
	})
}
