package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/intake"
	"github.com/docuvault/docuvault/store"
)

// errSomeNotAdded ends `docuvault add` with exit 1 after its summary.
var errSomeNotAdded = errors.New("some files were not added")

// addItem is one file the command line names or a folder holds.
type addItem struct {
	path string
	size int64
}

// cmdAdd adds files, or folders recursively, as one user's documents through the ingest
// path every upload takes: quota, size and type rules, the classification queue.
func cmdAdd(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	fs := flag.NewFlagSet("add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "TOML configuration file")
	username := fs.String("user", "", "the user whose documents the files become")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *username == "" {
		return usageError{"add: -user is required"}
	}
	if fs.NArg() == 0 {
		return usageError{"add: name at least one file or folder"}
	}
	items, total, err := collectFiles(fs.Args())
	if err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, env)
	if err != nil {
		return err
	}
	st, blobs, err := prepare(ctx, cfg, cfg.Server.MigrateOnStart)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.UserByUsername(ctx, *username)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("add: no user %q", *username)
	}
	if err != nil {
		return err
	}
	if !u.IsActive || u.Role != store.RoleUser {
		return fmt.Errorf("add: %s cannot hold documents (inactive, or an admin)", u.Username)
	}
	// No queue here: the server's workers find uploaded documents on their next poll.
	in := commandIngest(cfg, st, blobs)
	bar := newByteProgress(stderr, total)
	var added int
	var problems []string
	for i, it := range items {
		bar.describe(fmt.Sprintf("%d/%d %s", i+1, len(items), filepath.Base(it.path)))
		d, err := addOneFile(ctx, in, u.ID, it, bar)
		switch {
		case err == nil:
			added++
			if !bar.shown() {
				fmt.Fprintf(stdout, "added    %s (%s)\n", it.path, d.ID)
			}
		case ingest.IsRefusal(err):
			problems = append(problems, fmt.Sprintf("refused  %s: %s", it.path, ingest.Reason(err)))
		default:
			problems = append(problems, fmt.Sprintf("failed   %s: %v", it.path, err))
		}
	}
	bar.done()
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	fmt.Fprintf(stdout, "%d added, %d not added, of %d files\n", added, len(problems), len(items))
	if len(problems) > 0 {
		return errSomeNotAdded
	}
	return nil
}

// addOneFile streams one file through ingest, advancing bar by its bytes.
func addOneFile(ctx context.Context, in *ingest.Service, userID string, it addItem, bar *progress) (store.Document, error) {
	f, err := os.Open(it.path)
	if err != nil {
		return store.Document{}, &ingest.Refusal{Kind: ingest.KindUnreadable, Message: "the file could not be opened", Err: err}
	}
	defer f.Close()
	return in.Add(ctx, userID, ingest.File{Filename: filepath.Base(it.path), Body: bar.reader(f), Size: it.size})
}

// collectFiles expands the paths: files as named, folders walked recursively, skipping
// hidden and temporary files and folders inside them (as consume folders do).
func collectFiles(paths []string) ([]addItem, int64, error) {
	var items []addItem
	var total int64
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, 0, fmt.Errorf("add: %w", err)
		}
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				return nil, 0, fmt.Errorf("add: %s is not a regular file", p)
			}
			items, total = append(items, addItem{p, fi.Size()}), total+fi.Size()
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != p && intake.Ignored(d.Name()) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			fi, err := os.Stat(path) // follows a link to a file
			if err != nil || !fi.Mode().IsRegular() {
				return nil //nolint:nilerr // a broken link or a device is no document
			}
			items, total = append(items, addItem{path, fi.Size()}), total+fi.Size()
			return nil
		})
		if err != nil {
			return nil, 0, fmt.Errorf("add: %w", err)
		}
	}
	return items, total, nil
}

// commandIngest is the upload path for the commands that add documents (add, import): the
// configured limits, no queue (the running server's workers find the documents), no log.
func commandIngest(cfg Config, st *store.Store, blobs blob.Store) *ingest.Service {
	return ingest.New(ingest.Options{Store: st, Blobs: blobs, Logger: newLogger(cfg, io.Discard),
		MaxUploadBytes: cfg.Quota.MaxUploadBytes, PendingAllowance: cfg.Quota.PendingAllowance,
		AllowedContentTypes: cfg.Quota.AllowedContentTypes})
}
