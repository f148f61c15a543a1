package server

import (
	"bytes"
	"encoding/gob"
	"slices"
	"time"

	"github.com/alexedwards/scs/v2"
)

// sessionCodec encodes a session the same way every time: its values sorted by key. scs's
// GobCodec writes a map in Go's random iteration order, so the same session would encode to
// other bytes on every request, and the session store (see store.SessionStore) could not see
// that a request changed nothing but the idle expiry.
type sessionCodec struct{}

type sessionData struct {
	Deadline time.Time
	Keys     []string
	Values   []any
}

func (sessionCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	d := sessionData{Deadline: deadline, Keys: make([]string, 0, len(values))}
	for k := range values {
		d.Keys = append(d.Keys, k)
	}
	slices.Sort(d.Keys)
	d.Values = make([]any, len(d.Keys))
	for i, k := range d.Keys {
		d.Values[i] = values[k]
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Decode reads a session this codec wrote, or one scs's GobCodec wrote before it (a session
// signed in before an upgrade stays signed in).
func (sessionCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	var d sessionData
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&d); err != nil || len(d.Keys) != len(d.Values) {
		return scs.GobCodec{}.Decode(b)
	}
	values := make(map[string]any, len(d.Keys))
	for i, k := range d.Keys {
		values[k] = d.Values[i]
	}
	return d.Deadline, values, nil
}
