// Package assets embeds DocuVault's web UI: one HTML shell, plain ES modules and a
// stylesheet, served by the binary with no build step.
package assets

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// Static is the UI's file tree (index.html at its root).
func Static() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}
