package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/docuvault/docuvault/importer"
)

// cmdImport takes a DocuVault export zip back into a user's vault; running it again skips
// what is there (same SHA-256).
func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	var in, username string
	var dry bool
	cfgPath, err := parseFlags("import", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&in, "in", "", "export zip to read")
		fs.StringVar(&username, "user", "", "whose vault receives the documents")
		fs.BoolVar(&dry, "dry-run", false, "check the files and report the space needed; import nothing")
	})
	if err != nil {
		return err
	}
	if in == "" || username == "" {
		return usageError{"import: -in and -user are required"}
	}
	return runImport(ctx, cfgPath, username, stdout, stderr, env, dry, func(ctx context.Context, st importer.Store, add importer.Adder, userID string, o importer.Options) (importer.Report, error) {
		return importer.DocuVault(ctx, in, st, add, userID, o)
	})
}

// cmdImportPaperless takes a Paperless-ngx document_exporter folder into a user's vault.
func cmdImportPaperless(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	var in, username string
	var dry, people, types bool
	cfgPath, err := parseFlags("import-paperless", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&in, "in", "", "folder written by Paperless-ngx's document_exporter")
		fs.StringVar(&username, "user", "", "whose vault receives the documents")
		fs.BoolVar(&dry, "dry-run", false, "check the files and report the space needed; import nothing")
		fs.BoolVar(&people, "correspondents", false, "make each document's correspondent one of its topics")
		fs.BoolVar(&types, "document-types", false, "make each document's document type one of its topics")
	})
	if err != nil {
		return err
	}
	if in == "" || username == "" {
		return usageError{"import-paperless: -in and -user are required"}
	}
	return runImport(ctx, cfgPath, username, stdout, stderr, env, dry, func(ctx context.Context, st importer.Store, add importer.Adder, userID string, o importer.Options) (importer.Report, error) {
		return importer.Paperless(ctx, in, st, add, userID, importer.PaperlessOptions{Options: o, Correspondents: people, DocumentTypes: types})
	})
}

type importFunc func(ctx context.Context, st importer.Store, add importer.Adder, userID string, o importer.Options) (importer.Report, error)

// runImport opens the vault, runs one import through ingest (the running server's workers
// classify what arrives) and prints the report.
func runImport(ctx context.Context, cfgPath, username string, stdout, stderr io.Writer, env func(string) string, dry bool, fn importFunc) error {
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
	add := commandIngest(cfg, st, blobs)
	var bar *progress
	rep, err := fn(ctx, st, add, u.ID, importer.Options{DryRun: dry, Progress: func(done, total int) {
		if bar == nil {
			bar = newProgress(stderr, int64(total), "importing")
		}
		bar.set(int64(done))
	}})
	if bar != nil {
		bar.done()
	}
	if err == nil || rep.Total > 0 {
		printReport(stdout, rep, dry)
	}
	return err
}

func printReport(w io.Writer, rep importer.Report, dry bool) {
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "not imported: %s: %s\n", p.Name, p.Reason)
	}
	if dry {
		verdict := "fits"
		if rep.Bytes > rep.FreeBytes {
			verdict = fmt.Sprintf("does NOT fit: %d bytes more are needed (raise the quota first)", rep.Bytes-rep.FreeBytes)
		}
		fmt.Fprintf(w, "dry run: %d files, %d to import (%d bytes needed, %d free: %s), %d already there, %d problems\n",
			rep.Total, rep.Total-rep.Skipped-len(rep.Problems), rep.Bytes, rep.FreeBytes, verdict, rep.Skipped, len(rep.Problems))
		return
	}
	fmt.Fprintf(w, "imported %d of %d files (%d bytes), %d already there, %d topics added, %d problems\n",
		rep.Imported, rep.Total, rep.Bytes, rep.Skipped, rep.TopicsAdded, len(rep.Problems))
}
