package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// TestPutLeavesNoTempFile: a put that lands, one refused for its size and one whose body
// fails part-way all leave the temp folder empty, and only the landed one leaves a file.
func TestPutLeavesNoTempFile(t *testing.T) {
	root := t.TempDir()
	l, err := NewLocal(root, []byte("test-upload-secret-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := l.PutDeclared(ctx, "u/a/landed", strings.NewReader("hello"), 5, "text/plain"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Put(ctx, "u/a/too-large", bytes.NewReader(make([]byte, 100)), 10, ""); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("put past its limit: %v, want ErrTooLarge", err)
	}
	broken := errors.New("client went away")
	body := io.MultiReader(strings.NewReader("half"), iotest.ErrReader(broken))
	if _, err := l.PutDeclared(ctx, "u/a/broken", body, 8, ""); !errors.Is(err, broken) {
		t.Fatalf("put of a failing body: %v, want its error", err)
	}
	left, err := os.ReadDir(filepath.Join(root, ".tmp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("temp folder holds %d entries after the puts, want none (first: %s)", len(left), left[0].Name())
	}
	files, err := os.ReadDir(filepath.Join(root, "u", "a"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Name() != "landed" {
		t.Fatalf("folder holds %v, want only the landed file", files)
	}
}
