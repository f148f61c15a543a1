package export

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/docuvault/docuvault/store"
)

// Source is the part of the store an export reads.
type Source interface {
	ExportPage(ctx context.Context, userID string, after *store.ExportKey, limit int, withText bool) ([]store.ExportDocument, error)
	VisibleTopics(ctx context.Context, userID string) ([]store.Topic, error)
}

// Options shape a full export.
type Options struct {
	Username string
	WithText bool             // put each document's extracted text in the manifest
	Progress func(n, b int64) // called after each document with the documents and bytes so far; may be nil
	Now      func() time.Time
}

// pageSize is how many documents one query reads.
const pageSize = 200

// Stats sums up a finished export.
type Stats struct {
	Documents int
	Missing   int
	Bytes     int64
}

// All streams every finished document of the user into a zip on w, then manifest.json.
// The manifest comes last because it carries the SHA-256 of the bytes actually written;
// it is built from a second keyset pass over the documents (for the text), so nothing
// grows with the export but the list of entry names.
func All(ctx context.Context, w io.Writer, src Source, blobs Blobs, userID string, o Options) (Stats, error) {
	var st Stats
	if o.Now == nil {
		o.Now = time.Now
	}
	z := NewZip(w, blobs)
	written := map[string]Document{}
	var after *store.ExportKey
	for {
		page, err := src.ExportPage(ctx, userID, after, pageSize, false)
		if err != nil {
			return st, err
		}
		for _, d := range page {
			e, err := z.Add(ctx, d)
			if err != nil {
				return st, err
			}
			e.TopicIDs = nil // taken again in the second pass, which may have newer ones
			written[d.ID] = e
			st.Documents++
			st.Bytes += e.Size
			if e.Missing {
				st.Missing++
			}
			if o.Progress != nil {
				o.Progress(int64(st.Documents), st.Bytes)
			}
		}
		if len(page) < pageSize {
			break
		}
		last := page[len(page)-1]
		after = &store.ExportKey{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if err := writeManifest(ctx, z, src, userID, o, written); err != nil {
		return st, err
	}
	if err := z.Close(); err != nil {
		return st, fmt.Errorf("export: finish zip: %w", err)
	}
	return st, nil
}

// writeManifest streams manifest.json: the header fields, the topics, then one document at
// a time from a second pass; documents that arrived after the first pass are left out.
func writeManifest(ctx context.Context, z *Zip, src Source, userID string, o Options, written map[string]Document) error {
	topics, err := src.VisibleTopics(ctx, userID)
	if err != nil {
		return err
	}
	mw, err := z.Create(ManifestName)
	if err != nil {
		return fmt.Errorf("export: manifest: %w", err)
	}
	head := Manifest{Format: Format, Version: Version, ExportedAt: o.Now().UTC(), Username: o.Username, Topics: []Topic{}}
	for _, t := range topics {
		head.Topics = append(head.Topics, Topic{ID: t.ID, Name: t.Name, Description: t.Description, Color: t.Color, System: t.System()})
	}
	b, err := json.Marshal(head)
	if err != nil {
		return err
	}
	// Splice the documents array in by hand so it never sits in memory whole.
	b = b[:len(b)-len(`"documents":null}`)]
	if _, err := mw.Write(append(b, `"documents":[`...)); err != nil {
		return fmt.Errorf("export: manifest: %w", err)
	}
	first := true
	var after *store.ExportKey
	for {
		page, err := src.ExportPage(ctx, userID, after, pageSize, o.WithText)
		if err != nil {
			return err
		}
		for _, d := range page {
			e, ok := written[d.ID]
			if !ok {
				continue
			}
			e.TopicIDs = d.TopicIDs
			if o.WithText {
				text := d.Text
				e.Text = &text
			}
			line, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if !first {
				line = append([]byte{','}, line...)
			}
			first = false
			if _, err := mw.Write(line); err != nil {
				return fmt.Errorf("export: manifest: %w", err)
			}
		}
		if len(page) < pageSize {
			break
		}
		last := page[len(page)-1]
		after = &store.ExportKey{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if _, err := mw.Write([]byte("]}")); err != nil {
		return fmt.Errorf("export: manifest: %w", err)
	}
	return nil
}
