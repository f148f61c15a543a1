package server_test

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRouter checks that every route registered in the router appears in the
// OpenAPI document and that the document names no route the router lacks.
func TestOpenAPIMatchesRouter(t *testing.T) {
	e := newEnv(t, "sqlite", "local")
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
		Comps   struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	b := e.anonymous().call("GET", "/api/openapi.json", nil, 200, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	param := regexp.MustCompile(`:(\w+)`)
	routes := map[string]bool{}
	for _, r := range e.srv.Echo().Routes() {
		if r.Path == "/*" || r.Method == "echo_route_not_found" {
			continue // the web UI, and the groups' not-found handlers
		}
		routes[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	var missing, extra []string
	for r := range routes {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !routes[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("routes missing from the OpenAPI document: %v\ndocumented but not routed: %v", missing, extra)
	}
	// Every $ref points at a schema that exists.
	for _, m := range regexp.MustCompile(`"#/components/schemas/(\w+)"`).FindAllStringSubmatch(string(b), -1) {
		if _, ok := doc.Comps.Schemas[m[1]]; !ok {
			t.Errorf("dangling $ref %s", m[1])
		}
	}
}
