package main

import (
	"os"
	"testing"

	"github.com/docuvault/docuvault/internal/testenv"
)

// binary is the docuvault binary, built once for every test of the package that runs it as
// a process.
func binary(t *testing.T) string {
	t.Helper()
	return testenv.Binary(t, ".")
}

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveBinaries()
	os.Exit(code)
}
