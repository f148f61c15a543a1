package store

import "errors"

// ErrDuplicate: the user already holds a document with the same bytes (ConfirmUpload's
// per-user SHA-256 check). Intake paths treat it as a refusal, never as a failure.
var ErrDuplicate = errors.New("duplicate document")
