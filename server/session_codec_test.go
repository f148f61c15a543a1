package server

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

// TestSessionCodecIsStable: the same session encodes to the same bytes every time (scs's
// GobCodec does not: map order), decodes to what was encoded, and a session scs's
// GobCodec wrote before still decodes.
func TestSessionCodecIsStable(t *testing.T) {
	deadline := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	values := map[string]any{"user_id": "u1", "epoch": int64(3), "csrf": "tok", "proxy": "u2", "sid": "s", "a": 1, "b": true}
	first, err := sessionCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		b, err := sessionCodec{}.Encode(deadline, values)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, first) {
			t.Fatal("the same session encoded to other bytes")
		}
	}
	old, err := scs.GobCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"new": first, "scs's GobCodec": old} {
		d, v, err := sessionCodec{}.Decode(b)
		if err != nil || !d.Equal(deadline) || !reflect.DeepEqual(v, values) {
			t.Fatalf("%s: decoded %v %v %v, want %v %v", name, d, v, err, deadline, values)
		}
	}
	if _, _, err := (sessionCodec{}).Decode([]byte("not a session")); err == nil {
		t.Fatal("garbage decoded")
	}
}
