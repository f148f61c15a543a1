package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docuvault/docuvault/internal/testenv"
)

// TestContainerEntrypoint runs what the Dockerfile's image runs — its ENV, ENTRYPOINT and
// CMD — as a plain process with /data in a temp dir, and its HEALTHCHECK command against it.
func TestContainerEntrypoint(t *testing.T) {
	df, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := string(df)
	for _, want := range []string{"CGO_ENABLED=0", "USER nonroot", `VOLUME ["/data"]`, "EXPOSE 8080", "HEALTHCHECK", `CMD ["serve"]`,
		"AS full", "tesseract-ocr-eng tesseract-ocr-deu", "distroless/static-debian12:nonroot AS static"} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`(DOCUVAULT_\w+)=(\S+)`).FindAllStringSubmatch(text, -1) {
		env[m[1]] = m[2]
	}
	if env["DOCUVAULT_SERVER_LISTEN"] != "0.0.0.0:8080" || env["DOCUVAULT_SERVER_DATA_DIR"] != "/data" {
		t.Fatalf("image environment %v", env)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	env["DOCUVAULT_SERVER_DATA_DIR"] = t.TempDir()
	env["DOCUVAULT_SERVER_LISTEN"] = "0.0.0.0:" + strconv.Itoa(port)
	lookup := func(k string) string { return env[k] }

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var logs testenv.SyncBuffer
	go func() { done <- runContext(ctx, []string{"serve"}, &bytes.Buffer{}, &logs, lookup) }()
	healthy := false
	for i := 0; i < 100 && !healthy; i++ {
		time.Sleep(50 * time.Millisecond)
		healthy = runContext(context.Background(), []string{"healthcheck"}, &bytes.Buffer{}, &bytes.Buffer{}, lookup) == 0
	}
	cancel()
	if code := <-done; code != 0 || !healthy {
		t.Fatalf("healthy %v, exit %d; log %s", healthy, code, logs.String())
	}
	if _, err := os.Stat(env["DOCUVAULT_SERVER_DATA_DIR"] + "/docuvault.db"); err != nil {
		t.Fatalf("no database in the data volume: %v", err)
	}
}
