package importer

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/docuvault/docuvault/export"
)

// DocuVault imports a zip written by DocuVault's export (the CLI or "Download all my
// documents") into userID's vault: every original whose SHA-256 matches its manifest entry,
// with its extracted text (when exported) and topics.
func DocuVault(ctx context.Context, path string, st Store, add Adder, userID string, o Options) (Report, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return Report{}, fmt.Errorf("import: %s is not a readable zip: %w", path, err)
	}
	defer zr.Close()
	entries := map[string]*zip.File{}
	for _, f := range zr.File {
		entries[f.Name] = f
	}
	mf, ok := entries[export.ManifestName]
	if !ok {
		return Report{}, fmt.Errorf("import: %s has no %s: not a DocuVault export", path, export.ManifestName)
	}
	r, err := mf.Open()
	if err != nil {
		return Report{}, fmt.Errorf("import: manifest: %w", err)
	}
	var m export.Manifest
	err = json.NewDecoder(r).Decode(&m)
	r.Close()
	if err != nil {
		return Report{}, fmt.Errorf("import: manifest: %w", err)
	}
	if m.Format != export.Format || m.Version < 1 || m.Version > export.Version {
		return Report{}, fmt.Errorf("import: manifest of format %q version %d; this binary reads %q up to version %d", m.Format, m.Version, export.Format, export.Version)
	}
	topics := map[string]TopicRef{}
	for _, t := range m.Topics {
		topics[t.ID] = TopicRef{Name: t.Name, Description: t.Description, Color: t.Color}
	}
	items := make([]item, 0, len(m.Documents))
	for _, d := range m.Documents {
		it := item{name: d.Path, filename: d.Filename, contentType: d.ContentType, size: d.Size, sha256: d.SHA256}
		if it.name == "" {
			it.name = d.Filename
		}
		if d.Text != nil {
			it.text = *d.Text
		}
		for _, id := range d.TopicIDs {
			if t, ok := topics[id]; ok {
				it.topics = append(it.topics, t)
			}
		}
		f, ok := entries[d.Path]
		switch {
		case d.Missing || !ok || d.Path == "":
			it.open = func() (io.ReadCloser, error) { return nil, errMissing }
		case f.UncompressedSize64 != uint64(d.Size):
			it.open = func() (io.ReadCloser, error) {
				return nil, fmt.Errorf("size in the zip differs from the manifest: %w", errChecksum)
			}
		default:
			it.open = f.Open
		}
		items = append(items, it)
	}
	o.Topics = true
	rep, err := run(ctx, st, add, userID, items, o)
	if errors.Is(err, zip.ErrChecksum) {
		return rep, fmt.Errorf("import: the zip is damaged: %w", err)
	}
	return rep, err
}
