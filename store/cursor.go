package store

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Cursor marks a position in a list: the sort key and id of the last item seen. Plain lists
// sort by time (newest first); ranked search results by score (best first); SQLite's
// newest-first search results by their place in the full-text index (Seq).
type Cursor struct {
	At     time.Time
	Score  float64
	Ranked bool
	Seq    int64
	ID     string
	// Sort is the order of a plain list the cursor was made for ("" and SortCreated: by
	// creation), Asc its direction (false: descending); Name and Size are the keys of the
	// name and size orders.
	Sort string
	Asc  bool
	Name string
	Size int64
}

// Encode makes the cursor opaque for clients.
func (c Cursor) Encode() string {
	key := "t|" + c.At.UTC().Format(time.RFC3339Nano)
	switch {
	case c.Sort != "" && (c.Sort != SortCreated || c.Asc):
		key = sortedCursorKey(c)
	case c.Ranked:
		key = "r|" + strconv.FormatFloat(c.Score, 'g', -1, 64)
	case c.Seq > 0:
		key = "s|" + strconv.FormatInt(c.Seq, 10)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(key + "|" + c.ID))
}

// isID tells whether s is a canonical UUID, the shape of every id the store makes.
func isID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// DecodeCursor reads a cursor made by Encode; ErrInvalid for anything else.
func DecodeCursor(s string) (*Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrInvalid
	}
	if c, ok, err := decodeSortedCursor(string(b)); ok {
		return c, err
	}
	parts := strings.SplitN(string(b), "|", 3)
	if len(parts) != 3 || !isID(parts[2]) {
		return nil, ErrInvalid // ids are UUIDs: anything else (NUL bytes, invalid UTF-8) never reaches SQL
	}
	c := &Cursor{ID: parts[2]}
	switch parts[0] {
	case "t":
		if c.At, err = time.Parse(time.RFC3339Nano, parts[1]); err != nil {
			return nil, ErrInvalid
		}
		c.At = c.At.UTC()
	case "r":
		if c.Score, err = strconv.ParseFloat(parts[1], 64); err != nil || math.IsNaN(c.Score) || math.IsInf(c.Score, 0) {
			return nil, ErrInvalid
		}
		c.Ranked = true
	case "s":
		if c.Seq, err = strconv.ParseInt(parts[1], 10, 64); err != nil || c.Seq <= 0 {
			return nil, ErrInvalid
		}
	default:
		return nil, ErrInvalid
	}
	return c, nil
}
