package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/docuvault/docuvault/export"
	"github.com/docuvault/docuvault/store"
)

// cmdExport writes one user's documents and manifest to a zip, the same file the web UI's
// "Download all my documents" gives. The file appears under its name only when complete.
func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	var out, username string
	var withText bool
	cfgPath, err := parseFlags("export", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "zip file to write")
		fs.StringVar(&username, "user", "", "whose documents (may be left out when there is one user)")
		fs.BoolVar(&withText, "text", false, "put each document's extracted text in the manifest")
	})
	if err != nil {
		return err
	}
	if out == "" {
		return usageError{"export: -out is required"}
	}
	cfg, err := loadConfig(cfgPath, env)
	if err != nil {
		return err
	}
	st, blobs, err := prepare(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := commandUser(ctx, st, username)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".docuvault-export-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	bar := newProgress(stderr, -1, "exporting")
	stats, err := export.All(ctx, tmp, st, blobs, u.ID, export.Options{Username: u.Username, WithText: withText,
		Progress: func(n, _ int64) { bar.set(n) }})
	bar.done()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d documents (%d bytes) of %s to %s\n", stats.Documents, stats.Bytes, u.Username, out)
	if stats.Missing > 0 {
		fmt.Fprintf(stdout, "%d documents had no stored file (marked \"missing\" in manifest.json); run `docuvault check`\n", stats.Missing)
	}
	return nil
}

// commandUser finds the user a command acts for: the one named, or the only user with the
// role user when none is named.
func commandUser(ctx context.Context, st *store.Store, username string) (store.User, error) {
	if username != "" {
		u, err := st.UserByUsername(ctx, username)
		if errors.Is(err, store.ErrNotFound) {
			return store.User{}, usageError{fmt.Sprintf("no user %q", username)}
		}
		return u, err
	}
	users, err := st.ListUsers(ctx)
	if err != nil {
		return store.User{}, err
	}
	var found []store.User
	for _, u := range users {
		if u.Role == store.RoleUser {
			found = append(found, u.User)
		}
	}
	if len(found) != 1 {
		return store.User{}, usageError{"-user is required: the instance has more than one user (or none)"}
	}
	return found[0], nil
}
