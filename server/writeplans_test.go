package server_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuvault/docuvault/classify"
	"github.com/docuvault/docuvault/internal/testenv"
	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// statement is one statement the store ran, with its arguments.
type statement struct {
	query string
	args  []driver.NamedValue
}

// statementLog records the statements run through its connections while on, and counts
// every one of them in count when set.
type statementLog struct {
	mu    sync.Mutex
	on    bool
	seen  map[string]statement
	count *statementCounter
}

func (l *statementLog) record(query string, args []driver.NamedValue) {
	if l.count != nil {
		l.count.add(query)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on {
		if _, ok := l.seen[query]; !ok {
			l.seen[query] = statement{query, append([]driver.NamedValue(nil), args...)}
		}
	}
}

func (l *statementLog) set(on bool) { l.mu.Lock(); l.on = on; l.mu.Unlock() }

// logConnector hands out connections that record each statement before running it.
type logConnector struct {
	inner driver.Connector
	log   *statementLog
}

func (c logConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &logConn{conn, c.log}, nil
}

func (c logConnector) Driver() driver.Driver { return c.inner.Driver() }

// logConn forwards every interface database/sql looks for to the driver's connection.
type logConn struct {
	driver.Conn
	log *statementLog
}

func (c *logConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.log.record(q, args)
	return e.ExecContext(ctx, q, args)
}

func (c *logConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.log.record(q, args)
	return qc.QueryContext(ctx, q, args)
}

func (c *logConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.log.record(q, nil)
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
}

func (c *logConn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, o)
}

func (c *logConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *logConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *logConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *logConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// TestWritePathsUseIndexes runs an upload (upload-url, PUT, confirm), its classification, a
// rename, a topic change, a re-classification and a delete through the API, records every
// statement the store ran meanwhile, and asks the database for each one's plan: none may
// read a whole table or index (SQLite: a SCAN of a table or a full walk of an index or of the
// full-text index; PostgreSQL, with sequential scans priced out: a Seq Scan, or an index scan
// without an index condition). So each of these paths costs the same at a million documents.
func TestWritePathsUseIndexes(t *testing.T) {
	for _, d := range testenv.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			log := &statementLog{seen: map[string]statement{}}
			e := newEnvWithStore(t, d, "local", []store.Option{
				store.WithConnector(func(c driver.Connector) driver.Connector { return logConnector{c, log} })},
				func(o *server.Options) { o.Providers = []string{"local"} })
			pool := classify.New(classify.Config{Workers: 1, PollInterval: 20 * time.Millisecond, Logger: e.opts.Logger}, e.store, e.blobs, nil)
			e = e.withQueue(pool)
			alice := e.member("alice")
			var topic struct{ ID string }
			alice.call("POST", "/api/topics", map[string]string{"name": "Energy", "description": "electricity, gas"}, 201, &topic)

			log.set(true)
			pool.Start()
			t.Cleanup(func() { _ = pool.Stop(context.Background()) })
			id := uploadBytes(t, alice, "march.txt", "text/plain", []byte("Your electricity invoice for March."))
			waitStatus(t, alice, id, "classified")
			alice.call("PATCH", "/api/documents/"+id, map[string]any{"filename": "april.txt"}, 200)
			alice.call("PATCH", "/api/documents/"+id, map[string]any{"topic_ids": []string{topic.ID}}, 200)
			alice.call("POST", "/api/documents/"+id+"/classify", nil, 202)
			waitStatus(t, alice, id, "classified")
			alice.call("DELETE", "/api/documents/"+id, nil, 204)
			log.set(false)

			log.mu.Lock()
			stmts := log.seen
			log.mu.Unlock()
			if len(stmts) < 10 {
				t.Fatalf("only %d statements recorded", len(stmts))
			}
			conn, err := e.store.DB().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if d == store.Postgres {
				if _, err := conn.ExecContext(ctx, `SET enable_seqscan = off`); err != nil {
					t.Fatal(err)
				}
			}
			// The checker itself sees a scan: a lookup by a column no index holds.
			probe := `SELECT id FROM documents WHERE content_type = $1`
			if d == store.SQLite && len(sqliteFullScans(t, conn, probe, []any{"x"})) == 0 ||
				d == store.Postgres && len(postgresFullScans(t, conn, probe, []any{"x"})) == 0 {
				t.Fatalf("no scan found in %s", probe)
			}
			checked := 0
			for q, s := range stmts {
				verb := strings.ToUpper(strings.Fields(q)[0])
				if verb != "SELECT" && verb != "INSERT" && verb != "UPDATE" && verb != "DELETE" && verb != "WITH" {
					continue
				}
				args := make([]any, len(s.args))
				for i, a := range s.args {
					args[i] = a.Value
				}
				var bad []string
				if d == store.SQLite {
					bad = sqliteFullScans(t, conn, q, args)
				} else {
					bad = postgresFullScans(t, conn, q, args)
				}
				for _, b := range bad {
					t.Errorf("full scan (%s) in:\n%s", b, q)
				}
				checked++
			}
			t.Logf("%d statements checked", checked)
		})
	}
}

// waitStatus polls the document until it has status (10 s at most).
func waitStatus(t *testing.T, c *client, id, status string) {
	t.Helper()
	var doc struct{ Status string }
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c.call("GET", "/api/documents/"+id, nil, 200, &doc)
		if doc.Status == status {
			return
		}
	}
	t.Fatalf("document %s: status %q, want %q", id, doc.Status, status)
}

// sqliteScan is a plan step that reads a whole table or index; "SCAN CONSTANT ROW" and a
// full-text match ("VIRTUAL TABLE INDEX n:M…") read neither.
var sqliteScan = regexp.MustCompile(`^SCAN (\S+)`)

func sqliteFullScans(t *testing.T, conn *sql.Conn, q string, args []any) []string {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		m := sqliteScan.FindStringSubmatch(detail)
		if m == nil || m[1] == "CONSTANT" || strings.Contains(detail, "VALUES CLAUSE") || (strings.Contains(detail, "VIRTUAL TABLE INDEX") && !strings.Contains(detail, "INDEX 0:")) {
			continue
		}
		bad = append(bad, detail)
	}
	return bad
}

// planNode is a node of PostgreSQL's JSON plan.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	Relation  string     `json:"Relation Name"`
	Index     string     `json:"Index Name"`
	IndexCond string     `json:"Index Cond"`
	Plans     []planNode `json:"Plans"`
}

func postgresFullScans(t *testing.T, conn *sql.Conn, q string, args []any) []string {
	t.Helper()
	var out string
	if err := conn.QueryRowContext(context.Background(), `EXPLAIN (FORMAT JSON) `+q, args...).Scan(&out); err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	var plans []struct{ Plan planNode }
	if err := json.Unmarshal([]byte(out), &plans); err != nil {
		t.Fatal(err)
	}
	var bad []string
	var walk func(n planNode)
	walk = func(n planNode) {
		switch n.NodeType {
		case "Seq Scan":
			bad = append(bad, "Seq Scan on "+n.Relation)
		case "Index Scan", "Index Only Scan", "Bitmap Index Scan":
			// A partial index (system topics: user_id IS NULL) holds only what it reads.
			var partial bool
			if err := conn.QueryRowContext(context.Background(), `SELECT indpred IS NOT NULL FROM pg_index WHERE indexrelid = $1::regclass`,
				n.Index).Scan(&partial); err != nil {
				t.Fatal(err)
			}
			if n.IndexCond == "" && !partial {
				bad = append(bad, fmt.Sprintf("%s of %s without a condition", n.NodeType, n.Index))
			}
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	for _, p := range plans {
		walk(p.Plan)
	}
	return bad
}
