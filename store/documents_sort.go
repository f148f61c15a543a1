package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Orders of a plain document list.
const (
	SortCreated = "created"
	SortName    = "name"
	SortSize    = "size"
)

// nameKey is what the name order sorts by: the filename in NFC, Unicode case-folded, so
// "report", "Report" and "RÉPORT"/"réport" sit together on both databases (SQLite's lower()
// folds ASCII only). Both databases compare the keys bytewise; the id breaks ties.
func nameKey(filename string) string {
	return cases.Fold().String(norm.NFC.String(filename))
}

// versionDocumentNameKeys is the migration that adds documents.name_key.
const versionDocumentNameKeys = "0015-documents-sort-trash"

// fillDocumentNameKeys replaces the provisional lower(filename) keys of the migration with
// nameKey, a thousand documents at a time in id order.
func fillDocumentNameKeys(ctx context.Context, tx *sql.Tx) error {
	type doc struct{ id, name, key string }
	last := ""
	for {
		rows, err := tx.QueryContext(ctx, `SELECT id, filename, name_key FROM documents WHERE id > $1 ORDER BY id LIMIT 1000`, last)
		if err != nil {
			return fmt.Errorf("document name keys: %w", err)
		}
		var batch []doc
		for rows.Next() {
			var d doc
			if err := rows.Scan(&d.id, &d.name, &d.key); err != nil {
				rows.Close()
				return fmt.Errorf("document name keys: %w", err)
			}
			batch = append(batch, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("document name keys: %w", err)
		}
		for _, d := range batch {
			if k := nameKey(d.name); k != d.key {
				if _, err := tx.ExecContext(ctx, `UPDATE documents SET name_key = $1 WHERE id = $2`, k, d.id); err != nil {
					return fmt.Errorf("document name keys: %w", err)
				}
			}
		}
		if len(batch) < 1000 {
			return nil
		}
		last = batch[len(batch)-1].id
	}
}

// sortColumns are the sort keys of the plain list orders; each leads an index after
// (user_id, trashed), with the id as the tie-breaker.
var sortColumns = map[string]string{SortCreated: "d.created_at", SortName: "d.name_key", SortSize: "d.size_bytes"}

// ValidSort tells whether sort names a plain list order.
func ValidSort(sort string) bool { _, ok := sortColumns[sort]; return ok }

// sortOf is the order a cursor or filter names ("" is the default, newest first).
func sortOf(sort string) string {
	if sort == "" {
		return SortCreated
	}
	return sort
}

// sortedList is the user's documents in one order, each page one range of an index.
func sortedList(sort string, asc bool) listPlan {
	sort = sortOf(sort)
	col := sortColumns[sort]
	dir, op := "DESC", "<"
	if asc {
		dir, op = "ASC", ">"
	}
	return listPlan{from: `documents d`, score: `0.0`, seq: `0`, order: col + ` ` + dir + `, d.id ` + dir,
		after: func(c *Cursor, arg func(any) string) (string, error) {
			if c.Ranked || c.Seq != 0 || sortOf(c.Sort) != sort || c.Asc != asc {
				return "", fmt.Errorf("cursor from another order: %w", ErrInvalid)
			}
			var key any = c.At
			switch sort {
			case SortName:
				key = c.Name
			case SortSize:
				key = c.Size
			}
			return `(` + col + `, d.id) ` + op + ` (` + arg(key) + `, ` + arg(c.ID) + `)`, nil
		}}
}

// sortedCursor is where the next page of a sorted list starts: after d.
func sortedCursor(d Document, sort string, asc bool) *Cursor {
	c := &Cursor{Sort: sortOf(sort), Asc: asc, ID: d.ID, At: d.CreatedAt}
	switch c.Sort {
	case SortName:
		c.Name = nameKey(d.Filename)
	case SortSize:
		c.Size = d.SizeBytes
	}
	return c
}

// sortedPrefixes name each order but the default one in an encoded cursor.
var sortedPrefixes = map[string]struct {
	sort string
	asc  bool
}{"T": {SortCreated, true}, "n": {SortName, false}, "N": {SortName, true}, "z": {SortSize, false}, "Z": {SortSize, true}}

// sortedCursorKey is the clear text of a sorted list's cursor: order, key, id.
func sortedCursorKey(c Cursor) string {
	for p, o := range sortedPrefixes {
		if o.sort == c.Sort && o.asc == c.Asc {
			var v string
			switch c.Sort {
			case SortCreated:
				v = c.At.UTC().Format(timeLayout)
			case SortName:
				v = c.Name
			case SortSize:
				v = strconv.FormatInt(c.Size, 10)
			}
			return p + "|" + v
		}
	}
	return "t|" + c.At.UTC().Format(timeLayout)
}

const timeLayout = time.RFC3339Nano

func parseTime(v string) (time.Time, error) {
	t, err := time.Parse(timeLayout, v)
	return t.UTC(), err
}

// maxNameKey bounds the name in a cursor: a filename is at most 255 bytes, its fold at most
// three times that.
const maxNameKey = 1024

// decodeSortedCursor reads a sorted list's cursor; ok is false for any other kind.
func decodeSortedCursor(s string) (c *Cursor, ok bool, err error) {
	prefix, rest, found := strings.Cut(s, "|")
	o, known := sortedPrefixes[prefix]
	if !found || !known {
		return nil, false, nil
	}
	i := strings.LastIndex(rest, "|")
	if i < 0 || !isID(rest[i+1:]) {
		return nil, true, ErrInvalid
	}
	c = &Cursor{Sort: o.sort, Asc: o.asc, ID: rest[i+1:]}
	v := rest[:i]
	switch o.sort {
	case SortCreated:
		if c.At, err = parseTime(v); err != nil {
			return nil, true, ErrInvalid
		}
	case SortName:
		if len(v) > maxNameKey || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return nil, true, ErrInvalid // never reaches SQL: PostgreSQL refuses NUL in text
		}
		c.Name = v
	case SortSize:
		if c.Size, err = strconv.ParseInt(v, 10, 64); err != nil || c.Size < 0 {
			return nil, true, ErrInvalid
		}
	}
	return c, true, nil
}
