package importer_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/export"
	"github.com/docuvault/docuvault/importer"
	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/store"
)

// vault is one install: a database, a blob store and the ingest path into them.
type vault struct {
	st    *store.Store
	blobs blob.Store
	add   *ingest.Service
}

func newVault(t *testing.T, dialect, blobKind string) *vault {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dialect, testenv.DSN(t, dialect))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	var blobs blob.Store
	if blobKind == "minio" {
		blobs, err = blob.NewS3(ctx, testenv.MinIO(t))
	} else {
		blobs, err = blob.NewLocal(t.TempDir(), []byte("test-upload-secret-0123456789"))
	}
	if err != nil {
		t.Fatal(err)
	}
	add := ingest.New(ingest.Options{Store: st, Blobs: blobs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return &vault{st: st, blobs: blobs, add: add}
}

func (v *vault) user(t *testing.T, name string, limit int64) store.User {
	t.Helper()
	u, err := v.st.CreateUser(context.Background(), store.NewUser{Username: name, PasswordHash: "x", Role: store.RoleUser, LimitBytes: limit})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// snapshot is what must survive a round trip: per SHA-256 of the stored bytes, the
// filename, content type, text and topic names; and the user's topics.
type snapshot struct {
	docs   map[string]string
	topics []string
}

func (v *vault) snapshot(t *testing.T, userID string) snapshot {
	t.Helper()
	ctx := context.Background()
	s := snapshot{docs: map[string]string{}}
	var after *store.ExportKey
	for {
		page, err := v.st.ExportPage(ctx, userID, after, 100, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page {
			r, _, err := v.blobs.Open(ctx, d.ObjectKey)
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			if _, err := io.Copy(h, r); err != nil {
				t.Fatal(err)
			}
			r.Close()
			full, err := v.st.Document(ctx, userID, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tp := range full.Topics {
				names = append(names, tp.Name)
			}
			sort.Strings(names)
			s.docs[hex.EncodeToString(h.Sum(nil))] = fmt.Sprintf("%s|%s|%d|%q|%v", d.Filename, d.ContentType, d.SizeBytes, d.Text, names)
		}
		if len(page) < 100 {
			break
		}
		after = &store.ExportKey{CreatedAt: page[len(page)-1].CreatedAt, ID: page[len(page)-1].ID}
	}
	topics, err := v.st.OwnTopics(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range topics {
		s.topics = append(s.topics, tp.Name+"|"+tp.Description+"|"+tp.Color)
	}
	sort.Strings(s.topics)
	return s
}

// TestExportWipeImportRoundTrip: an export of one user's vault, imported into a fresh
// install, gives the same bytes (SHA-256 of every file), names, types, texts, topics with
// their colours and assignments; a second run imports nothing; another user's documents
// never travel.
func TestExportWipeImportRoundTrip(t *testing.T) {
	for _, dialect := range testenv.Dialects() {
		for _, kind := range []string{"local", "minio"} {
			t.Run(dialect+"/"+kind, func(t *testing.T) {
				ctx := context.Background()
				src := newVault(t, dialect, kind)
				alice, bob := src.user(t, "alice", 1<<30), src.user(t, "bob", 1<<30)
				uid := alice.ID
				bills, err := src.st.AddTopic(ctx, store.Topic{UserID: &uid, Name: "Bills", Description: "to pay", Color: "#ff8800"})
				if err != nil {
					t.Fatal(err)
				}
				taxes, err := src.st.AddTopic(ctx, store.Topic{UserID: &uid, Name: "Taxes", Color: ""})
				if err != nil {
					t.Fatal(err)
				}
				system, err := src.st.AddTopic(ctx, store.Topic{Name: "Insurance", Description: "policies"})
				if err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(1, 2))
				for i := range 12 {
					body := make([]byte, 1+rng.IntN(200_000))
					for j := range body {
						body[j] = byte(rng.IntN(256))
					}
					name := []string{"scan.pdf", "Scan.pdf", "Übersicht 2024.txt", "notes.txt"}[i%4]
					ct := map[bool]string{true: "application/pdf", false: "text/plain"}[strings.HasSuffix(name, ".pdf")]
					d, err := src.add.Add(ctx, alice.ID, ingest.File{Filename: name, ContentType: ct, Body: bytes.NewReader(body), Size: int64(len(body))})
					if err != nil {
						t.Fatal(err)
					}
					if i%3 == 0 {
						if err := src.st.SetText(ctx, alice.ID, d.ID, fmt.Sprintf("text of document %d, Rechnung Nr. %d", i, i)); err != nil {
							t.Fatal(err)
						}
					}
					ids := [][]string{{bills.ID}, {bills.ID, taxes.ID}, {system.ID}, nil}[i%4]
					if _, err := src.st.UpdateDocument(ctx, alice.ID, d.ID, store.DocumentPatch{TopicIDs: &ids}); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := src.add.Add(ctx, bob.ID, ingest.File{Filename: "bob.txt", ContentType: "text/plain", Body: strings.NewReader("bob's secret"), Size: 12}); err != nil {
					t.Fatal(err)
				}
				want := src.snapshot(t, alice.ID)

				zipPath := filepath.Join(t.TempDir(), "export.zip")
				f, err := os.Create(zipPath)
				if err != nil {
					t.Fatal(err)
				}
				stats, err := export.All(ctx, f, src.st, src.blobs, alice.ID, export.Options{Username: "alice", WithText: true})
				if err != nil {
					t.Fatal(err)
				}
				f.Close()
				if stats.Documents != 12 || stats.Missing != 0 {
					t.Fatalf("export stats %+v", stats)
				}

				// The wipe: a fresh install with the same system topic and a new alice.
				dst := newVault(t, dialect, kind)
				if _, err := dst.st.AddTopic(ctx, store.Topic{Name: "Insurance", Description: "policies"}); err != nil {
					t.Fatal(err)
				}
				alice2 := dst.user(t, "alice", 1<<30)
				rep, err := importer.DocuVault(ctx, zipPath, dst.st, dst.add, alice2.ID, importer.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if rep.Imported != 12 || rep.Skipped != 0 || len(rep.Problems) != 0 || rep.TopicsAdded != 2 {
					t.Fatalf("import report %+v", rep)
				}
				got := dst.snapshot(t, alice2.ID)
				if fmt.Sprint(got.topics) != fmt.Sprint(want.topics) {
					t.Errorf("topics %v, want %v", got.topics, want.topics)
				}
				if len(got.docs) != len(want.docs) {
					t.Fatalf("%d documents, want %d", len(got.docs), len(want.docs))
				}
				for sum, w := range want.docs {
					if got.docs[sum] != w {
						t.Errorf("document %s: %q, want %q", sum[:12], got.docs[sum], w)
					}
				}
				q, err := dst.st.QuotaOf(ctx, alice2.ID)
				if err != nil {
					t.Fatal(err)
				}
				if q.UsedBytes != stats.Bytes {
					t.Errorf("quota used %d, want the %d bytes imported", q.UsedBytes, stats.Bytes)
				}

				again, err := importer.DocuVault(ctx, zipPath, dst.st, dst.add, alice2.ID, importer.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if again.Imported != 0 || again.Skipped != 12 {
					t.Fatalf("second run %+v, want everything skipped", again)
				}
				if q2, _ := dst.st.QuotaOf(ctx, alice2.ID); q2.UsedBytes != q.UsedBytes {
					t.Errorf("second run charged the quota: %d → %d", q.UsedBytes, q2.UsedBytes)
				}
			})
		}
	}
}

// TestImportRefusesTamperedFiles: a file whose bytes differ from the manifest's SHA-256 is
// reported and not stored; the others are imported.
func TestImportRefusesTamperedFiles(t *testing.T) {
	for _, kind := range []string{"local", "minio"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			src := newVault(t, "sqlite", kind)
			alice := src.user(t, "alice", 1<<30)
			for i, body := range []string{"first file", "second file", "third file"} {
				if _, err := src.add.Add(ctx, alice.ID, ingest.File{Filename: fmt.Sprintf("f%d.txt", i), ContentType: "text/plain",
					Body: strings.NewReader(body), Size: int64(len(body))}); err != nil {
					t.Fatal(err)
				}
			}
			var buf bytes.Buffer
			if _, err := export.All(ctx, &buf, src.st, src.blobs, alice.ID, export.Options{}); err != nil {
				t.Fatal(err)
			}
			// Rewrite the zip with f1.txt's bytes changed (same length) but the manifest kept.
			zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "tampered.zip")
			out, _ := os.Create(path)
			zw := zip.NewWriter(out)
			for _, f := range zr.File {
				r, _ := f.Open()
				b, _ := io.ReadAll(r)
				if f.Name == "f1.txt" {
					b = []byte("SECOND FILE")
				}
				w, _ := zw.Create(f.Name)
				w.Write(b)
			}
			zw.Close()
			out.Close()

			dst := newVault(t, "sqlite", kind)
			a2 := dst.user(t, "alice", 1<<30)
			rep, err := importer.DocuVault(ctx, path, dst.st, dst.add, a2.ID, importer.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Imported != 2 || len(rep.Problems) != 1 || rep.Problems[0].Name != "f1.txt" || !strings.Contains(rep.Problems[0].Reason, "checksum") {
				t.Fatalf("report %+v", rep)
			}
			docs, _, err := dst.st.ListDocuments(ctx, a2.ID, store.DocumentFilter{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != 2 {
				t.Fatalf("%d documents stored, want 2", len(docs))
			}
			for _, d := range docs {
				if d.Filename == "f1.txt" {
					t.Fatal("the tampered file was stored")
				}
			}
			q, _ := dst.st.QuotaOf(ctx, a2.ID)
			if q.PendingBytes != 0 || q.UsedBytes != int64(len("first file")+len("third file")) {
				t.Errorf("quota after a refused file: %+v", q)
			}
		})
	}
}
