package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Driver errors are told apart by their typed codes (SQLSTATE, SQLite result codes), never
// by message text, which drivers may reword between versions.

// pgCode is the SQLSTATE of a PostgreSQL error in err's chain, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// sqliteCode is the (extended) SQLite result code in err's chain, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// isUniqueViolation tells whether err is a unique-constraint failure in either dialect.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if pgCode(err) == "23505" {
		return true
	}
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isForeignKeyViolation tells whether err is a foreign-key failure in either dialect: a row
// that refers to one that does not exist (or no longer does).
func isForeignKeyViolation(err error) bool {
	return err != nil && (pgCode(err) == "23503" || sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY)
}

// IsUnavailable tells whether err means the database cannot serve the request now (down,
// restarting, unreachable, busy, out of resources) rather than a bug or bad input: a 503.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if code := pgCode(err); code != "" {
		switch {
		case code == "57P01", code == "57P02", code == "57P03": // admin/crash shutdown, cannot connect now
			return true
		case code[:2] == "08", code[:2] == "53": // connection exception, insufficient resources
			return true
		}
		return false
	}
	if c := sqliteCode(err); c != 0 {
		switch c & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOMEM:
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, context.DeadlineExceeded)
}

// IsBadInput tells whether the database refused a value it cannot store (a NUL byte or
// invalid UTF-8 in text): the request's fault, a 400. Input is checked at the edge; this is
// the backstop.
func IsBadInput(err error) bool {
	switch pgCode(err) {
	case "22021", "22P05": // character_not_in_repertoire, untranslatable_character
		return true
	}
	return false
}

// IsConflict tells whether err is a unique-constraint failure the store did not turn into
// ErrConflict itself.
func IsConflict(err error) bool { return isUniqueViolation(err) }
