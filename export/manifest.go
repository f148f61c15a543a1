package export

import "time"

// Format names a DocuVault export in its manifest.
const Format = "docuvault-export"

// Version is the manifest's layout version; importers refuse newer ones.
const Version = 1

// Manifest describes an export: the user's topics and every document with the name its
// original has in the zip.
type Manifest struct {
	Format     string     `json:"format"`
	Version    int        `json:"version"`
	ExportedAt time.Time  `json:"exported_at"`
	Username   string     `json:"username,omitempty"`
	Topics     []Topic    `json:"topics"`
	Documents  []Document `json:"documents"`
}

// Topic is a topic the exported documents may carry: the user's own, or a system topic
// (which an import matches by name).
type Topic struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Color       string `json:"color"`
	System      bool   `json:"system"`
}

// Document is one exported document.
type Document struct {
	ID           string     `json:"id"`
	Path         string     `json:"path"` // entry name of the original in the zip
	Filename     string     `json:"filename"`
	ContentType  string     `json:"content_type"`
	Size         int64      `json:"size"`
	SHA256       string     `json:"sha256"` // of the bytes written, computed while streaming
	Status       string     `json:"status"`
	CreatedAt    time.Time  `json:"created_at"`
	UploadedAt   *time.Time `json:"uploaded_at,omitempty"`
	ClassifiedAt *time.Time `json:"classified_at,omitempty"`
	TopicIDs     []string   `json:"topic_ids"`
	Text         *string    `json:"text,omitempty"`
	Missing      bool       `json:"missing,omitempty"` // the stored object was gone: no entry in the zip
}
