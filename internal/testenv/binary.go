package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// built is one binary built for a test process.
type built struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

var binaries = struct {
	sync.Mutex
	dir   string
	byPkg map[string]*built
}{byPkg: map[string]*built{}}

// Binary builds the main package pkg (an import path, or "." for the test's own package)
// once per test process, as released (CGO_ENABLED=0), and returns the binary's path.
// RemoveBinaries, called from TestMain, removes what was built.
func Binary(t testing.TB, pkg string) string {
	t.Helper()
	binaries.Lock()
	b, ok := binaries.byPkg[pkg]
	if !ok {
		b = &built{}
		binaries.byPkg[pkg] = b
	}
	binaries.Unlock()
	b.once.Do(func() {
		binaries.Lock()
		if binaries.dir == "" {
			binaries.dir, b.err = os.MkdirTemp("", "docuvault-test-bin-")
		}
		dir := binaries.dir
		binaries.Unlock()
		if b.err != nil {
			return
		}
		sub, err := os.MkdirTemp(dir, "b")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(sub, "docuvault")
		build := exec.Command("go", "build", "-o", b.path, pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		b.out, b.err = build.CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, b.err, b.out)
	}
	return b.path
}

// RemoveBinaries removes the binaries Binary built.
func RemoveBinaries() {
	binaries.Lock()
	defer binaries.Unlock()
	if binaries.dir != "" {
		os.RemoveAll(binaries.dir)
	}
}
