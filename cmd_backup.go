package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Names inside a backup archive.
const (
	backupDB    = "docuvault.db"
	backupBlobs = "blobs/"
)

// cmdBackup writes a SQLite install to one .tar.gz: an online copy of the database and the
// blob folder, streamed file by file.
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	var out string
	cfgPath, err := parseFlags("backup", args, stderr, func(fs *flag.FlagSet) { fs.StringVar(&out, "out", "", "archive to write (.tar.gz)") })
	if err != nil {
		return err
	}
	if out == "" {
		return usageError{"backup: -out is required"}
	}
	cfg, err := loadConfig(cfgPath, env)
	if err != nil {
		return err
	}
	if cfg.Database.Driver != "sqlite" || cfg.Blob.Backend != "local" {
		return errors.New("backup covers SQLite with local blobs; for Postgres use pg_dump, and the object store's own tools for the bucket")
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".docuvault-backup-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dbCopy := filepath.Join(tmp, backupDB)
	if err := st.BackupTo(ctx, dbCopy); err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	files := 0
	err = addFile(tw, dbCopy, backupDB)
	if err == nil {
		err = filepath.WalkDir(cfg.Blob.LocalDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(cfg.Blob.LocalDir, p)
			if strings.HasPrefix(rel, ".tmp") {
				return nil // unfinished uploads
			}
			files++
			return addFile(tw, p, backupBlobs+filepath.ToSlash(rel))
		})
	}
	for _, c := range []io.Closer{tw, gz, f} {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.Remove(out)
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup written to %s (database and %d stored files)\n", out, files)
	return nil
}

func addFile(tw *tar.Writer, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o640, Size: fi.Size(), ModTime: fi.ModTime(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

// cmdRestore unpacks a backup into the configured (empty) data locations.
func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	var in string
	var force bool
	cfgPath, err := parseFlags("restore", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&in, "in", "", "archive made by docuvault backup")
		fs.BoolVar(&force, "force", false, "replace an existing database")
	})
	if err != nil {
		return err
	}
	if in == "" {
		return usageError{"restore: -in is required"}
	}
	cfg, err := loadConfig(cfgPath, env)
	if err != nil {
		return err
	}
	if cfg.Database.Driver != "sqlite" || cfg.Blob.Backend != "local" {
		return errors.New("restore covers SQLite with local blobs")
	}
	if _, err := os.Stat(cfg.Database.DSN); err == nil && !force {
		return fmt.Errorf("%s exists: stop DocuVault and pass -force to replace it", cfg.Database.DSN)
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("restore: not a backup archive: %w", err)
	}
	tr := tar.NewReader(gz)
	if err := os.MkdirAll(filepath.Dir(cfg.Database.DSN), 0o750); err != nil {
		return err
	}
	files := 0
	sawDB := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		var dst string
		switch {
		case h.Name == backupDB:
			dst, sawDB = cfg.Database.DSN+".restoring", true
		case strings.HasPrefix(h.Name, backupBlobs):
			rel := strings.TrimPrefix(h.Name, backupBlobs)
			if !filepath.IsLocal(rel) {
				return fmt.Errorf("restore: unsafe path %q in archive", h.Name)
			}
			dst = filepath.Join(cfg.Blob.LocalDir, filepath.FromSlash(rel))
			files++
		default:
			return fmt.Errorf("restore: unexpected %q in archive", h.Name)
		}
		if err := writeFile(dst, tr); err != nil {
			return err
		}
	}
	if !sawDB {
		return errors.New("restore: the archive holds no database")
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(cfg.Database.DSN + suffix)
	}
	if err := os.Rename(cfg.Database.DSN+".restoring", cfg.Database.DSN); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.CheckSchema(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored the database and %d stored files\n", files)
	return nil
}

func writeFile(dst string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
