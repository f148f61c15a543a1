package classify

import (
	"context"
	"testing"
	"time"

	"github.com/docuvault/docuvault/store"
)

// TestImportedTextKept: a document that came with its text (a Paperless-ngx import) is
// classified on that text, without extraction: an unreadable PDF gets no "file name only"
// note, the provider sees the imported text, and the stored text stays. A text stored
// after the worker claimed the document is not overwritten by the extracted one.
func TestImportedTextKept(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u := f.user(t, "alice")
		f.topic(t, nil, "Finance", "invoice")
		// The race, before any pool runs: claimed without a text, the import's text stored,
		// then completed with the extracted one.
		d2 := f.upload(t, u, "notes.txt", "text/plain", "extracted words")
		j, err := f.st.ClaimNext(ctx, time.Minute)
		if err != nil || j.DocumentID != d2.ID || j.Text != "" {
			t.Fatalf("claim %+v %v", j, err)
		}
		if err := f.st.SetText(ctx, u.ID, d2.ID, "imported words"); err != nil {
			t.Fatal(err)
		}
		if err := f.st.CompleteJob(ctx, j, "extracted words", nil, nil); err != nil {
			t.Fatal(err)
		}
		docs, _, err := f.st.ListDocuments(ctx, u.ID, store.DocumentFilter{Query: "imported", Limit: 5})
		if err != nil || len(docs) != 1 || docs[0].ID != d2.ID {
			t.Fatalf("search for the imported text: %v %v", docs, err)
		}
		if docs, _, _ := f.st.ListDocuments(ctx, u.ID, store.DocumentFilter{Query: "extracted", Limit: 5}); len(docs) != 0 {
			t.Fatalf("the extracted text replaced the imported one: %v", docs)
		}
		rec := &recorder{}
		d := f.upload(t, u, "scan.pdf", "application/pdf", "%PDF-1.4 not a real pdf")
		if err := f.st.SetText(ctx, u.ID, d.ID, "Rechnung der Stadtwerke, OCR by Paperless"); err != nil {
			t.Fatal(err)
		}
		startPool(t, f, Config{Workers: 1, DefaultProvider: "rec"}, map[string]Provider{"rec": rec})
		waitFor(t, "classification", 5*time.Second, classified(f, t, u, d.ID))
		got := f.doc(t, u, d.ID)
		if got.Status != store.StatusClassified || got.Error != nil {
			t.Fatalf("document %+v", got)
		}
		calls := rec.calls()
		if len(calls) != 1 || calls[0].Text != "Rechnung der Stadtwerke, OCR by Paperless" {
			t.Fatalf("provider saw %+v", calls)
		}

	})
}
