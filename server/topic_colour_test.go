package server_test

import "testing"

// TestTopicColour: a topic keeps the colour its owner picks ("#rrggbb", stored lower case),
// a patch changes or clears it, and anything else is a 422 that changes nothing.
func TestTopicColour(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		alice := e.member("alice")
		var tp map[string]any
		alice.call("POST", "/api/topics", map[string]string{"name": "Bills", "color": "#A1B2C3"}, 201, &tp)
		if tp["color"] != "#a1b2c3" {
			t.Fatalf("created topic %v", tp)
		}
		id := tp["id"].(string)
		for _, bad := range []string{"red", "#12345", "#1234567", "#12345g"} {
			alice.call("PATCH", "/api/topics/"+id, map[string]string{"color": bad}, 422)
			alice.call("POST", "/api/topics", map[string]string{"name": "X" + bad, "color": bad}, 422)
		}
		alice.call("PATCH", "/api/topics/"+id, map[string]string{"color": "#12\x0045"}, 400)
		alice.call("PATCH", "/api/topics/"+id, map[string]string{"color": "#00ff00"}, 200, &tp)
		var list []map[string]any
		alice.call("GET", "/api/topics", nil, 200, &list)
		if len(list) != 1 || list[0]["color"] != "#00ff00" {
			t.Fatalf("topics after patch: %v", list)
		}
		alice.call("PATCH", "/api/topics/"+id, map[string]string{"color": ""}, 200, &tp)
		if tp["color"] != "" {
			t.Fatalf("cleared colour: %v", tp)
		}
		admin := e.admin("root")
		admin.call("POST", "/api/admin/topics", map[string]string{"name": "Tax", "color": "#336699"}, 201, &tp)
		if tp["color"] != "#336699" {
			t.Fatalf("system topic %v", tp)
		}
	})
}
