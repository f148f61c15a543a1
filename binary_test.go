package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// testBinary is the docuvault binary, built once for every test of the package that runs
// it as a process.
var testBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// binary builds the binary on first use (CGO_ENABLED=0, as released) and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	b := &testBinary
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "docuvault-bin-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "docuvault")
		build := exec.Command("go", "build", "-o", b.path, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		b.out, b.err = build.CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("build: %v\n%s", b.err, b.out)
	}
	return b.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testBinary.dir != "" {
		os.RemoveAll(testBinary.dir)
	}
	os.Exit(code)
}
