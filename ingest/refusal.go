package ingest

import (
	"errors"
	"fmt"
)

// Kind says why a file was refused.
type Kind string

// The reasons a file is refused. A refused file will be refused again unchanged: callers
// set it aside (a consume folder's .failed/) instead of retrying it.
const (
	KindInvalidName     Kind = "invalid_name"      // the name is not a plain file name
	KindInvalidType     Kind = "invalid_type"      // the declared content type is malformed
	KindTypeNotAccepted Kind = "type_not_accepted" // the content type is outside the allow-list
	KindTooLarge        Kind = "too_large"         // larger than the largest upload
	KindQuotaExceeded   Kind = "quota_exceeded"    // the user's quota has no room for it
	KindDuplicate       Kind = "duplicate"         // the user already holds these bytes
	KindUnreadable      Kind = "unreadable"        // the source failed while it was read
)

// Refusal is a file turned down for what it is (not for a failing dependency): retrying
// the same file gives the same answer.
type Refusal struct {
	Kind    Kind
	Message string
	// UsedBytes, LimitBytes and RejectedBytes describe the quota for KindTooLarge and
	// KindQuotaExceeded.
	UsedBytes, LimitBytes, RejectedBytes int64
	Err                                  error // the cause, when there is one
}

func (r *Refusal) Error() string {
	if r.Err != nil {
		return fmt.Sprintf("ingest: refused (%s): %s: %v", r.Kind, r.Message, r.Err)
	}
	return fmt.Sprintf("ingest: refused (%s): %s", r.Kind, r.Message)
}

// Unwrap gives the cause (a store.QuotaError, the source's read error).
func (r *Refusal) Unwrap() error { return r.Err }

// IsRefusal tells a refused file (set it aside with Reason) from a failed dependency
// (database, blob store: retry later, nothing was kept).
func IsRefusal(err error) bool {
	var r *Refusal
	return errors.As(err, &r)
}

// Reason is the one-line message of a refusal, "" for any other error.
func Reason(err error) string {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Message
	}
	return ""
}

func refuse(k Kind, msg string) error { return &Refusal{Kind: k, Message: msg} }
