package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/docuvault/docuvault/internal/testenv"
)

// replica is one docuvault process of the cluster under test.
type replica struct {
	url string
	cmd *exec.Cmd
	log string
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// fakeOllama answers classification requests after a delay and counts them per file name.
type fakeOllama struct {
	mu    sync.Mutex
	calls map[string]int
	delay atomic.Int64
	total atomic.Int64
}

var fileNameInPrompt = regexp.MustCompile(`Document file name: (\S+)`)

func (f *fakeOllama) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Messages []struct{ Content string } `json:"messages"`
	}
	json.NewDecoder(r.Body).Decode(&req)
	name := ""
	for _, m := range req.Messages {
		if s := fileNameInPrompt.FindStringSubmatch(m.Content); s != nil {
			name = s[1]
		}
	}
	f.total.Add(1)
	time.Sleep(time.Duration(f.delay.Load()))
	f.mu.Lock()
	f.calls[name]++
	f.mu.Unlock()
	io.WriteString(w, `{"model":"llama3.1","message":{"role":"assistant","content":"{\"topics\":[\"Finance\"]}"},"done":true}`)
}

// apiClient talks JSON to the cluster with cookies (shared by every replica: same host).
type apiClient struct {
	t      *testing.T
	hc     *http.Client
	csrf   string
	bearer string
}

func (c *apiClient) do(method, url string, body any, want int, out any) int {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if want != 0 && resp.StatusCode != want {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, url, resp.StatusCode, want, raw)
	}
	if out != nil {
		json.Unmarshal(raw, out)
	}
	if tok := resp.Header.Get("X-CSRF-Token"); tok != "" {
		c.csrf = tok
	}
	return resp.StatusCode
}

// TestReplicas runs three docuvault processes on one Postgres database and one MinIO bucket
// and drives them with interleaved requests.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary three times")
	}
	dsn := testenv.PostgresDSN(t)
	s3 := testenv.MinIO(t)
	dir := t.TempDir()
	bin := binary(t)
	fake := &fakeOllama{calls: map[string]int{}}
	fake.delay.Store(int64(100 * time.Millisecond))
	ollama := httptest.NewServer(fake)
	defer ollama.Close()

	start := time.Now()
	var replicas []*replica
	for i := 0; i < 3; i++ {
		addr := freePort(t)
		r := &replica{url: "http://" + addr, log: filepath.Join(dir, fmt.Sprintf("replica%d.log", i))}
		logf, _ := os.Create(r.log)
		r.cmd = exec.Command(bin, "serve")
		r.cmd.Stdout, r.cmd.Stderr = logf, logf
		r.cmd.Env = append(os.Environ(),
			"DOCUVAULT_SERVER_LISTEN="+addr, "DOCUVAULT_SERVER_LOG_FORMAT=json", "DOCUVAULT_SERVER_DATA_DIR="+dir,
			"DOCUVAULT_DATABASE_DRIVER=postgres", "DOCUVAULT_DATABASE_DSN="+dsn,
			"DOCUVAULT_BLOB_BACKEND=s3", "DOCUVAULT_S3_ENDPOINT="+s3.Endpoint, "DOCUVAULT_S3_ACCESS_KEY="+s3.AccessKey,
			"DOCUVAULT_S3_SECRET_KEY="+s3.SecretKey, "DOCUVAULT_S3_BUCKET="+s3.Bucket,
			"DOCUVAULT_ADMIN_PASSWORD=cluster admin password",
			"DOCUVAULT_OLLAMA_BASE_URL="+ollama.URL, "DOCUVAULT_CLASSIFY_DEFAULT_PROVIDER=ollama",
			"DOCUVAULT_CLASSIFY_WORKERS=4", "DOCUVAULT_CLASSIFY_LEASE=3s", "DOCUVAULT_CLASSIFY_POLL_INTERVAL=200ms",
			"DOCUVAULT_JOBS_EXPIRY_INTERVAL=1s")
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.cmd.Process.Kill(); r.cmd.Wait() })
		replicas = append(replicas, r)
		if i == 0 {
			waitReady(t, r) // the first one migrates; the others then start on a current schema
		}
	}
	for _, r := range replicas {
		waitReady(t, r)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	jar, _ := cookiejar.New(nil)
	admin := &apiClient{t: t, hc: &http.Client{Jar: jar}}

	// A session made on one replica is valid on the others.
	var login struct {
		CSRFToken string `json:"csrf_token"`
	}
	admin.do("POST", replicas[0].url+"/api/auth/login", map[string]string{"username": "admin", "password": "cluster admin password"}, 200, &login)
	admin.csrf = login.CSRFToken
	admin.do("GET", replicas[1].url+"/api/auth/me", nil, 200, nil)
	admin.do("POST", replicas[2].url+"/api/admin/topics", map[string]string{"name": "Receipts"}, 201, nil)
	newUser := func(name string, limit int64) *apiClient {
		var created struct {
			TemporaryPassword string `json:"temporary_password"`
		}
		admin.do("POST", replicas[1].url+"/api/admin/users", map[string]any{"username": name, "limit_bytes": limit}, 201, &created)
		jar, _ := cookiejar.New(nil)
		u := &apiClient{t: t, hc: &http.Client{Jar: jar}}
		u.do("POST", replicas[2].url+"/api/auth/login", map[string]string{"username": name, "password": created.TemporaryPassword}, 200, &login)
		u.csrf = login.CSRFToken
		u.do("POST", replicas[0].url+"/api/auth/me/password", map[string]string{"current_password": created.TemporaryPassword, "new_password": name + " long password"}, 204, nil)
		var tok struct{ Token string }
		u.do("POST", replicas[1].url+"/api/auth/me/tokens", map[string]string{"name": "replica test"}, 201, &tok)
		return &apiClient{t: t, hc: &http.Client{}, bearer: tok.Token}
	}

	// upload sends one document: step 1 on one replica, step 3 on another.
	upload := func(c *apiClient, i int, name string, body []byte) (string, int) {
		var tk struct {
			DocumentID string            `json:"document_id"`
			UploadURL  string            `json:"upload_url"`
			Method     string            `json:"method"`
			Headers    map[string]string `json:"headers"`
			Fields     map[string]string `json:"fields"`
		}
		c.do("POST", replicas[i%3].url+"/api/documents/upload-url", map[string]any{"filename": name, "content_type": "text/plain", "size_bytes": len(body)}, 201, &tk)
		if code, msg := sendToStorage(t, tk.Method, tk.UploadURL, tk.Headers, tk.Fields, body); code != 200 {
			t.Errorf("upload of %s to MinIO: %d %s", name, code, msg)
			return tk.DocumentID, 0
		}
		return tk.DocumentID, c.do("POST", replicas[(i+1)%3].url+"/api/documents/"+tk.DocumentID+"/confirm", nil, 0, nil)
	}
	parallel := func(n, workers int, fn func(i int)) {
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
					fn(i)
				}
			}()
		}
		wg.Wait()
	}
	waitClassified := func(user string, want int, within time.Duration) {
		deadline := time.Now().Add(within)
		for {
			var n int
			db.QueryRow(`SELECT COUNT(*) FROM documents d JOIN users u ON u.id = d.user_id WHERE u.username = $1 AND d.status = 'classified'`, user).Scan(&n)
			if n == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d of %d documents classified after %v", user, n, want, within)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// 200 documents through all replicas: each classified exactly once.
	alice := newUser("alice", 100<<20)
	parallel(200, 8, func(i int) {
		if _, code := upload(alice, i, fmt.Sprintf("alice-%03d.txt", i), []byte(fmt.Sprintf("invoice number %d", i))); code != 200 {
			t.Errorf("confirm %d: %d", i, code)
		}
	})
	waitClassified("alice", 200, 60*time.Second)
	fake.mu.Lock()
	for i := 0; i < 200; i++ {
		if n := fake.calls[fmt.Sprintf("alice-%03d.txt", i)]; n != 1 {
			t.Errorf("alice-%03d.txt classified %d times", i, n)
		}
	}
	fake.mu.Unlock()
	var topics int
	db.QueryRow(`SELECT COUNT(*) FROM document_topics dt JOIN documents d ON d.id = dt.document_id JOIN users u ON u.id = d.user_id WHERE u.username = 'alice'`).Scan(&topics)
	if topics != 200 {
		t.Fatalf("alice's documents hold %d topic assignments, want 200", topics)
	}

	// A quota race split across replicas never overshoots.
	bob := newUser("bob", 10_000)
	var granted atomic.Int64
	ids := make([]string, 20)
	var tickets sync.WaitGroup
	for i := range ids {
		tickets.Add(1)
		go func() {
			defer tickets.Done()
			var tk struct {
				DocumentID string            `json:"document_id"`
				UploadURL  string            `json:"upload_url"`
				Method     string            `json:"method"`
				Headers    map[string]string `json:"headers"`
				Fields     map[string]string `json:"fields"`
			}
			bob.do("POST", replicas[i%3].url+"/api/documents/upload-url", map[string]any{"filename": fmt.Sprintf("bob-%d.txt", i), "size_bytes": 1000}, 201, &tk)
			body := make([]byte, 1000) // distinct bytes: a copy of another would be refused as a duplicate
			copy(body, fmt.Sprintf("bob-%d", i))
			if code, msg := sendToStorage(t, tk.Method, tk.UploadURL, tk.Headers, tk.Fields, body); code != 200 {
				t.Errorf("upload of bob-%d to MinIO: %d %s", i, code, msg)
				return
			}
			ids[i] = tk.DocumentID
		}()
	}
	tickets.Wait()
	var race sync.WaitGroup
	gate := make(chan struct{})
	for i, id := range ids {
		race.Add(1)
		go func() {
			defer race.Done()
			<-gate
			switch code := bob.do("POST", replicas[i%3].url+"/api/documents/"+id+"/confirm", nil, 0, nil); code {
			case 200:
				granted.Add(1)
			case 413:
			default:
				t.Errorf("confirm: %d", code)
			}
		}()
	}
	close(gate)
	race.Wait()
	var q struct {
		Used  int64 `json:"used_bytes"`
		Limit int64 `json:"limit_bytes"`
	}
	bob.do("GET", replicas[0].url+"/api/auth/me/quota", nil, 200, &q)
	if granted.Load() != 10 || q.Used != 10_000 {
		t.Fatalf("quota race across replicas: %d granted, used %d of %d", granted.Load(), q.Used, q.Limit)
	}

	// Kill one replica mid-classification: nothing is lost.
	fake.delay.Store(int64(1500 * time.Millisecond))
	carol := newUser("carol", 100<<20)
	before := fake.total.Load()
	for i := 0; i < 24; i++ {
		upload(carol, i%2, fmt.Sprintf("carol-%02d.txt", i), []byte(fmt.Sprint("bank statement ", i))) // distinct bytes: not duplicates
	}
	deadline := time.Now().Add(20 * time.Second)
	for fake.total.Load()-before < 8 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := replicas[2].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	replicas[2].cmd.Wait()
	waitClassified("carol", 24, 90*time.Second)
	db.QueryRow(`SELECT COUNT(*) FROM document_topics dt JOIN documents d ON d.id = dt.document_id JOIN users u ON u.id = d.user_id WHERE u.username = 'carol'`).Scan(&topics)
	if topics != 24 {
		t.Fatalf("carol's documents hold %d topic assignments, want 24", topics)
	}

	// The scheduled job (every 1 s) ran about once per tick across all replicas.
	elapsed := time.Since(start)
	runs := 0
	for _, r := range replicas {
		b, _ := os.ReadFile(r.log)
		runs += strings.Count(string(b), `"msg":"scheduled job ran","job":"expire-pending"`)
	}
	ticks := int(elapsed / time.Second)
	if runs < ticks/2 || runs > ticks+2 {
		t.Fatalf("expire-pending ran %d times in %d one-second ticks across 3 replicas", runs, ticks)
	}
	t.Logf("scheduled runs %d over %d ticks; classification calls %d", runs, ticks, fake.total.Load())
}

func waitReady(t *testing.T, r *replica) {
	t.Helper()
	for i := 0; i < 300; i++ {
		resp, err := http.Get(r.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(r.log)
	t.Fatalf("replica %s never ready:\n%s", r.url, b)
}

// sendToStorage sends a presigned upload the way the browser does and returns the store's
// status and message (or the transport's error).
func sendToStorage(t *testing.T, method, url string, headers, fields map[string]string, body []byte) (int, string) {
	code, msg, err := testenv.SendAsBrowser(t, method, url, headers, fields, body)
	if err != nil {
		return code, err.Error()
	}
	return code, msg
}
