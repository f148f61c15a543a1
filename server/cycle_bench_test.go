package server_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// benchClients is how many clients run at once in BenchmarkUploadCycleVsGet.
const benchClients = 64

// send makes one request of c without a testing.TB (it runs on RunParallel's goroutines).
func (c *client) send(method, url string, body io.Reader, contentType string, want int, out any) error {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// BenchmarkUploadCycleVsGet: 64 clients, each with a session of its own, upload 1 KiB files
// through the three requests of the local store (upload-url, PUT, confirm), beside, as the
// baseline in the same run, the same clients reading one of their documents (an authenticated
// GET). Both report requests per second; the goal is a cycle's per-request rate of at least
// half the GET rate. The clients are 64 users, then one user signed in 64 times: every upload
// of one user charges the same quota row, one upload after another.
func BenchmarkUploadCycleVsGet(b *testing.B) {
	for _, d := range testenv.Dialects() {
		for _, users := range []int{benchClients, 1} {
			b.Run(fmt.Sprintf("%s/users=%d", d, users), func(b *testing.B) { benchUploadCycle(b, d, users) })
		}
	}
}

func benchUploadCycle(b *testing.B, d string, users int) {
	// One user's 64 clients stream at once: the cap on a user's concurrent uploads (4 by
	// default) would turn most of them away.
	e := newEnv(b, d, "local", func(o *server.Options) { o.MaxUploadsPerUser = benchClients })
	tr := &http.Transport{MaxIdleConns: 2 * benchClients, MaxIdleConnsPerHost: 2 * benchClients}
	b.Cleanup(tr.CloseIdleConnections)
	clients := make([]*client, benchClients)
	docs := make([]string, benchClients)
	for i := range clients {
		name := fmt.Sprintf("bench%02d", i%users)
		if i < users {
			e.createUser(name, store.RoleUser, 1<<40)
		}
		clients[i] = e.login(name, testPassword)
		clients[i].hc.Transport = tr
	}
	// Every upload's bytes differ (a counter leads them): the same bytes twice would be
	// refused as a duplicate at confirm.
	var seq atomic.Int64
	cycle := func(c *client) (string, error) {
		payload := bytes.Repeat([]byte("0123456789abcdef"), 64)
		binary.BigEndian.PutUint64(payload, uint64(seq.Add(1)))
		var tk uploadTicket
		body, _ := json.Marshal(map[string]any{"filename": "f.txt", "content_type": "text/plain", "size_bytes": len(payload)})
		if err := c.send("POST", e.ts.URL+"/api/documents/upload-url", bytes.NewReader(body), "application/json", 201, &tk); err != nil {
			return "", err
		}
		if err := c.send(tk.Method, tk.UploadURL, bytes.NewReader(payload), tk.Headers["Content-Type"], 200, nil); err != nil {
			return "", err
		}
		return tk.DocumentID, c.send("POST", e.ts.URL+"/api/documents/"+tk.DocumentID+"/confirm", nil, "", 200, nil)
	}
	for i, c := range clients {
		var err error
		if docs[i], err = cycle(c); err != nil {
			b.Fatal(err)
		}
	}
	run := func(b *testing.B, requests int, op func(c *client, doc string) error) {
		var next atomic.Int64
		b.SetParallelism((benchClients + 1) / 2)
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(1)-1) % benchClients
			for pb.Next() {
				if err := op(clients[i], docs[i]); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N*requests)/time.Since(start).Seconds(), "requests/s")
	}
	b.Run("baseline-get", func(b *testing.B) {
		run(b, 1, func(c *client, doc string) error {
			return c.send("GET", e.ts.URL+"/api/documents/"+doc, nil, "", 200, nil)
		})
	})
	b.Run("upload-cycle", func(b *testing.B) {
		run(b, 3, func(c *client, _ string) error {
			_, err := cycle(c)
			return err
		})
	})
}
