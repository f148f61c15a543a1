package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// PaperlessOptions shape a Paperless-ngx import.
type PaperlessOptions struct {
	Options
	Correspondents bool // a document's correspondent becomes one of its topics too
	DocumentTypes  bool // and its document type
}

// Paperless-ngx's manifest is a Django serialization: a JSON array of {model, pk, fields},
// documents carrying the exported file's path beside their fields.
type paperlessObject struct {
	Model        string          `json:"model"`
	PK           json.RawMessage `json:"pk"`
	Fields       json.RawMessage `json:"fields"`
	ExportedFile string          `json:"__exported_file_name__"`
}

type paperlessDocument struct {
	Title            string            `json:"title"`
	Content          string            `json:"content"`
	Checksum         string            `json:"checksum"` // MD5 of the original
	MimeType         string            `json:"mime_type"`
	OriginalFilename *string           `json:"original_filename"`
	Tags             []json.RawMessage `json:"tags"`
	Correspondent    json.RawMessage   `json:"correspondent"`
	DocumentType     json.RawMessage   `json:"document_type"`
}

type paperlessNamed struct {
	Name  string `json:"name"`
	Color string `json:"color"`
}

// Paperless imports a folder written by Paperless-ngx's document_exporter (with or without
// --split-manifest, --use-folder-prefix or --use-filename-format): each original with its
// title as filename (keeping the extension), its content as extracted text and its tags as
// topics. Files are read only inside dir. A document whose file is missing or whose MD5
// differs is reported and skipped.
func Paperless(ctx context.Context, dir string, st Store, add Adder, userID string, o PaperlessOptions) (Report, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Report{}, fmt.Errorf("import: %w", err)
	}
	defer root.Close()
	objects, err := readPaperlessManifest(root, "manifest.json")
	if err != nil {
		return Report{}, err
	}
	// --split-manifest moves each document to <name>-manifest.json (under json/ with
	// --use-folder-prefix); the main manifest keeps the tags and the rest.
	var split []string
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, "-manifest.json") {
			split = append(split, p)
		}
		return nil
	})
	if err != nil {
		return Report{}, fmt.Errorf("import: %w", err)
	}
	sort.Strings(split)
	for _, p := range split {
		more, err := readPaperlessManifest(root, p)
		if err != nil {
			return Report{}, err
		}
		objects = append(objects, more...)
	}
	tags, people, types := map[string]TopicRef{}, map[string]TopicRef{}, map[string]TopicRef{}
	for _, obj := range objects {
		target := map[string]map[string]TopicRef{"documents.tag": tags, "documents.correspondent": people, "documents.documenttype": types}[obj.Model]
		if target == nil {
			continue
		}
		var n paperlessNamed
		if err := json.Unmarshal(obj.Fields, &n); err != nil {
			return Report{}, fmt.Errorf("import: %s %s: %w", obj.Model, obj.PK, err)
		}
		target[string(obj.PK)] = TopicRef{Name: n.Name, Color: n.Color}
	}
	var items []item
	for _, obj := range objects {
		if obj.Model != "documents.document" {
			continue
		}
		var d paperlessDocument
		if err := json.Unmarshal(obj.Fields, &d); err != nil {
			return Report{}, fmt.Errorf("import: document %s: %w", obj.PK, err)
		}
		name := obj.ExportedFile
		it := item{name: name, contentType: d.MimeType, size: -1, md5: d.Checksum, text: d.Content}
		if len(d.Checksum) == 64 { // newer exports may carry SHA-256
			it.md5, it.sha256 = "", d.Checksum
		}
		original := ""
		if d.OriginalFilename != nil {
			original = *d.OriginalFilename
		}
		it.filename = paperlessFilename(d.Title, original, name, d.MimeType)
		if it.name == "" {
			it.name = "document " + string(obj.PK) + " (" + d.Title + ")"
		}
		for _, t := range d.Tags {
			if ref, ok := tags[string(t)]; ok {
				it.topics = append(it.topics, ref)
			}
		}
		if ref, ok := people[string(d.Correspondent)]; ok && o.Correspondents {
			it.topics = append(it.topics, ref)
		}
		if ref, ok := types[string(d.DocumentType)]; ok && o.DocumentTypes {
			it.topics = append(it.topics, ref)
		}
		it.open = func() (io.ReadCloser, error) {
			if name == "" {
				return nil, errMissing
			}
			f, err := root.Open(filepath.FromSlash(name))
			if errors.Is(err, fs.ErrNotExist) {
				return nil, errMissing
			}
			if err != nil {
				return nil, fmt.Errorf("%w (%v)", errMissing, err) // outside the folder, unreadable
			}
			if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
				f.Close()
				return nil, errMissing
			}
			return f, nil
		}
		items = append(items, it)
	}
	o.Topics = true
	return run(ctx, st, add, userID, items, o.Options)
}

func readPaperlessManifest(root *os.Root, name string) ([]paperlessObject, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, fmt.Errorf("import: %s: %w (is this a Paperless-ngx document_exporter folder?)", name, err)
	}
	defer f.Close()
	var out []paperlessObject
	if err := json.NewDecoder(f).Decode(&out); err != nil {
		return nil, fmt.Errorf("import: %s: %w", name, err)
	}
	return out, nil
}

// paperlessFilename is the document's title made a file name, with the original's
// extension (or the exported file's, or one for its type).
func paperlessFilename(title, original, exported, mimeType string) string {
	ext := path.Ext(original)
	if ext == "" {
		ext = path.Ext(exported)
	}
	if ext == "" {
		if exts, _ := mime.ExtensionsByType(mimeType); len(exts) > 0 {
			ext = exts[0]
		}
	}
	name := cleanName(title)
	if name == "" {
		name = cleanName(strings.TrimSuffix(path.Base(original), path.Ext(original)))
	}
	if name == "" {
		name = "document"
	}
	if ext != "" && !strings.HasSuffix(strings.ToLower(name), strings.ToLower(ext)) {
		name += ext
	}
	return name
}
