package server_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/docuvault/docuvault/importer"
	"github.com/docuvault/docuvault/ingest"
)

// paperlessDoc is one document of a Paperless-ngx export fixture.
type paperlessDoc struct {
	pk       int
	title    string
	content  string
	original string
	mime     string
	exported string // __exported_file_name__
	body     string // "" with write false: the file is missing
	write    bool
	badSum   bool // the manifest's MD5 is of other bytes
	tags     []int
	corr     any
}

// writePaperlessExport lays out what Paperless-ngx's document_exporter writes: Django
// serialized objects in manifest.json (or, split, one <name>-manifest.json per document
// under json/), the originals under their exported names, thumbnails and metadata.json.
func writePaperlessExport(t *testing.T, dir string, docs []paperlessDoc, split bool) {
	t.Helper()
	objects := []any{
		map[string]any{"model": "documents.correspondent", "pk": 1, "fields": map[string]any{"owner": nil, "name": "Stadtwerke München", "match": "", "matching_algorithm": 6, "is_insensitive": true}},
		map[string]any{"model": "documents.documenttype", "pk": 1, "fields": map[string]any{"owner": nil, "name": "Invoice", "match": "", "matching_algorithm": 1, "is_insensitive": true}},
		map[string]any{"model": "documents.tag", "pk": 1, "fields": map[string]any{"owner": nil, "name": "Rechnungen", "color": "#a6cee3", "is_inbox_tag": false, "match": "", "matching_algorithm": 1, "is_insensitive": true}},
		map[string]any{"model": "documents.tag", "pk": 2, "fields": map[string]any{"owner": nil, "name": "Steuer 2023", "color": "#1F78B4", "is_inbox_tag": false, "match": "", "matching_algorithm": 1, "is_insensitive": true}},
		map[string]any{"model": "documents.tag", "pk": 3, "fields": map[string]any{"owner": nil, "name": "Posteingang", "color": "not a colour", "is_inbox_tag": true, "match": "", "matching_algorithm": 0, "is_insensitive": true}},
		map[string]any{"model": "auth.user", "pk": 3, "fields": map[string]any{"username": "admin", "password": "pbkdf2_sha256$…"}},
	}
	for _, d := range docs {
		sumOf := d.body
		if d.badSum {
			sumOf = "other bytes"
		}
		s := md5.Sum([]byte(sumOf))
		var original any = d.original
		if d.original == "" {
			original = nil
		}
		obj := map[string]any{"model": "documents.document", "pk": d.pk, "fields": map[string]any{
			"owner": 3, "correspondent": d.corr, "storage_path": nil, "title": d.title, "document_type": nil,
			"content": d.content, "mime_type": d.mime, "checksum": hex.EncodeToString(s[:]), "archive_checksum": nil,
			"created": "2023-03-01", "modified": "2023-03-02T10:00:00.000Z", "storage_type": "unencrypted",
			"added": "2023-03-02T09:59:00.000Z", "filename": "x", "archive_serial_number": nil,
			"original_filename": original, "tags": d.tags},
			"__exported_file_name__":      d.exported,
			"__exported_thumbnail_name__": d.exported + "-thumbnail.webp",
		}
		if d.write {
			p := filepath.Join(dir, filepath.FromSlash(d.exported))
			if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(d.body), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p+"-thumbnail.webp", []byte("RIFF thumbnail"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if split {
			base := strings.TrimSuffix(filepath.Base(d.exported), filepath.Ext(d.exported))
			note := map[string]any{"model": "documents.note", "pk": d.pk, "fields": map[string]any{"note": "a note", "document": d.pk}}
			writeJSON(t, filepath.Join(dir, "json", base+"-manifest.json"), []any{obj, note})
		} else {
			objects = append(objects, obj)
		}
	}
	writeJSON(t, filepath.Join(dir, "manifest.json"), objects)
	writeJSON(t, filepath.Join(dir, "metadata.json"), map[string]any{"version": "2.11.6"})
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestImportPaperlessExport: a Paperless-ngx export (plain and --split-manifest with folder
// prefixes) is imported: titles become filenames with the original's extension, content
// becomes the searchable text, tags become topics with their colours; a missing file, a
// file whose MD5 differs and a name outside the folder are reported, not fatal; a second
// run imports nothing. Then the documents are listed and searched through the API.
func TestImportPaperlessExport(t *testing.T) {
	for _, split := range []bool{false, true} {
		prefix := ""
		if split {
			prefix = "originals/"
		}
		docs := []paperlessDoc{
			{pk: 1, title: "Stromrechnung März", content: "Stadtwerke Verbrauch 2400 Kilowattstunden Zählerstand", original: "scan_0001.PDF",
				mime: "application/pdf", exported: prefix + "2023-03-01 Stadtwerke München Stromrechnung März.pdf", body: "%PDF-1.4 strom", write: true, tags: []int{1, 2}, corr: 1},
			{pk: 2, title: "日本語の書類 – Übersicht 🧾", content: "Übersicht der Ausgaben quittungsbeleg", original: "notes.txt",
				mime: "text/plain", exported: prefix + "2023-03-01 日本語の書類 – Übersicht 🧾.txt", body: "plain text body", write: true, tags: []int{2, 3}},
			{pk: 3, title: "Verlorener Brief", content: "nie angekommen", original: "lost.pdf", mime: "application/pdf",
				exported: prefix + "2023-03-01 Verlorener Brief.pdf", body: "%PDF-1.4 lost", write: false, tags: []int{1}},
			{pk: 4, title: "Beschädigt", content: "kaputt", original: "bad.pdf", mime: "application/pdf",
				exported: prefix + "2023-03-01 Beschädigt.pdf", body: "%PDF-1.4 damaged", write: true, badSum: true},
			{pk: 5, title: "Lohn/Gehalt 2023", content: "Gehaltsabrechnung Dezember", original: "", mime: "application/pdf",
				exported: prefix + "2023/Arbeitgeber/Lohn.pdf", body: "%PDF-1.4 lohn", write: true},
			{pk: 6, title: "Escape", content: "outside", original: "x.pdf", mime: "application/pdf",
				exported: "../outside.pdf", body: "%PDF-1.4 outside", write: false},
		}
		name := map[bool]string{false: "manifest", true: "split-manifest"}[split]
		t.Run(name, func(t *testing.T) {
			forEachCombination(t, func(t *testing.T, e *env) {
				ctx := context.Background()
				top := t.TempDir()
				dir := filepath.Join(top, "export")
				writePaperlessExport(t, dir, docs, split)
				if err := os.WriteFile(filepath.Join(top, "outside.pdf"), []byte("%PDF-1.4 outside"), 0o600); err != nil {
					t.Fatal(err)
				}
				alice := e.member("alice")
				add := ingest.New(ingest.Options{Store: e.store, Blobs: e.blobs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})

				dry, err := importer.Paperless(ctx, dir, e.store, add, alice.user.ID, importer.PaperlessOptions{Options: importer.Options{DryRun: true}})
				if err != nil {
					t.Fatal(err)
				}
				wantBytes := int64(len("%PDF-1.4 strom") + len("plain text body") + len("%PDF-1.4 lohn"))
				if dry.Bytes != wantBytes || dry.Imported != 0 || dry.FreeBytes != 100<<20 || len(dry.Problems) != 3 {
					t.Fatalf("dry run %+v, want %d bytes needed", dry, wantBytes)
				}
				var page struct {
					Items []map[string]any `json:"items"`
				}
				alice.call("GET", "/api/documents", nil, 200, &page)
				if len(page.Items) != 0 {
					t.Fatal("a dry run stored documents")
				}

				rep, err := importer.Paperless(ctx, dir, e.store, add, alice.user.ID, importer.PaperlessOptions{Correspondents: true})
				if err != nil {
					t.Fatal(err)
				}
				if rep.Imported != 3 || rep.Total != 6 || len(rep.Problems) != 3 {
					t.Fatalf("report %+v", rep)
				}
				reasons := map[string]string{}
				for _, p := range rep.Problems {
					reasons[p.Name] = p.Reason
				}
				if !strings.Contains(reasons[prefix+"2023-03-01 Verlorener Brief.pdf"], "missing") ||
					!strings.Contains(reasons[prefix+"2023-03-01 Beschädigt.pdf"], "MD5") || !strings.Contains(reasons["../outside.pdf"], "missing") {
					t.Errorf("problems %v", reasons)
				}

				alice.call("GET", "/api/documents", nil, 200, &page)
				got := map[string][]string{}
				for _, d := range page.Items {
					var topics []string
					for _, tp := range d["topics"].([]any) {
						topics = append(topics, tp.(map[string]any)["name"].(string))
					}
					sort.Strings(topics)
					got[d["filename"].(string)] = topics
				}
				want := map[string][]string{
					"Stromrechnung März.PDF":   {"Rechnungen", "Stadtwerke München", "Steuer 2023"},
					"日本語の書類 – Übersicht 🧾.txt": {"Posteingang", "Steuer 2023"},
					"Lohn-Gehalt 2023.pdf":     nil,
				}
				if len(got) != len(want) {
					t.Fatalf("documents %v", got)
				}
				for f, w := range want {
					if tp, ok := got[f]; !ok || strings.Join(tp, ",") != strings.Join(w, ",") {
						t.Errorf("%s: topics %v (present %v), want %v", f, tp, ok, w)
					}
				}
				for q, want := range map[string]string{"Kilowattstunden": "Stromrechnung März.PDF", "quittungsbeleg": "日本語の書類 – Übersicht 🧾.txt",
					"Gehaltsabrechnung": "Lohn-Gehalt 2023.pdf", "kaputt": "", "outside": ""} {
					alice.call("GET", "/api/documents?q="+url.QueryEscape(q), nil, 200, &page)
					if want == "" && len(page.Items) != 0 || want != "" && (len(page.Items) != 1 || page.Items[0]["filename"] != want) {
						t.Errorf("search %q: %v, want %q", q, page.Items, want)
					}
				}
				var topics []map[string]any
				alice.call("GET", "/api/topics", nil, 200, &topics)
				colours := map[string]any{}
				for _, tp := range topics {
					colours[tp["name"].(string)] = tp["color"]
				}
				if colours["Rechnungen"] != "#a6cee3" || colours["Steuer 2023"] != "#1f78b4" || colours["Posteingang"] != "" || colours["Invoice"] != nil {
					t.Errorf("topic colours %v", colours)
				}

				again, err := importer.Paperless(ctx, dir, e.store, add, alice.user.ID, importer.PaperlessOptions{Correspondents: true})
				if err != nil {
					t.Fatal(err)
				}
				if again.Imported != 0 || again.Skipped != 3 {
					t.Errorf("second run %+v", again)
				}
			})
		})
	}
}

// TestImportPaperlessQuota: an import that does not fit stops at the quota with a clear
// message, keeps what fitted and leaves no reservation behind; the dry run said so first.
func TestImportPaperlessQuota(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		dir := t.TempDir()
		var docs []paperlessDoc
		for i := 1; i <= 4; i++ {
			docs = append(docs, paperlessDoc{pk: i, title: "Doc " + string(rune('A'+i)), content: "c", original: "a.txt", mime: "text/plain",
				exported: "doc" + string(rune('a'+i)) + ".txt", body: strings.Repeat(string(rune('a'+i)), 400), write: true})
		}
		writePaperlessExport(t, dir, docs, false)
		u := e.createUser("carol", "user", 1000)
		add := ingest.New(ingest.Options{Store: e.store, Blobs: e.blobs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		dry, err := importer.Paperless(ctx, dir, e.store, add, u.ID, importer.PaperlessOptions{Options: importer.Options{DryRun: true}})
		if err != nil || dry.Bytes != 1600 || dry.FreeBytes != 1000 {
			t.Fatalf("dry run %+v %v", dry, err)
		}
		rep, err := importer.Paperless(ctx, dir, e.store, add, u.ID, importer.PaperlessOptions{})
		if err == nil || !strings.Contains(err.Error(), "quota") || rep.Imported != 2 {
			t.Fatalf("import over quota: %+v %v", rep, err)
		}
		q, _ := e.store.QuotaOf(ctx, u.ID)
		if q.UsedBytes != 800 || q.PendingBytes != 0 {
			t.Errorf("quota %+v", q)
		}
	})
}
