package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/docuvault/docuvault/intake"
	"github.com/docuvault/docuvault/store"
)

// TestMailRekey: a password sealed with the instance key, then under a configured key,
// keeps opening across a rotation (old key in mail_old_keys), `docuvault mail rekey`
// re-seals it with the current key so the old one can go, and a password no configured key
// opens makes rekey exit 1.
func TestMailRekey(t *testing.T) {
	dir := t.TempDir()
	k1 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	k2 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	run := func(env func(string) string, args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := runContext(context.Background(), args, &stdout, &stderr, env)
		return code, stdout.String() + stderr.String()
	}
	base := envMap("DOCUVAULT_SERVER_DATA_DIR", dir)
	if code, out := run(base, "migrate", "up"); code != 0 {
		t.Fatalf("migrate: %d %s", code, out)
	}
	ctx := context.Background()
	cfgFor := func(env func(string) string) Config {
		cfg, err := loadConfig("", env)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	st, _, err := prepare(ctx, cfgFor(base), false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.CreateUser(ctx, store.NewUser{Username: "alice", PasswordHash: "x", Role: store.RoleUser, LimitBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	add := func(keys *intake.Keyring) store.MailAccount {
		id := store.NewMailAccountID()
		sealed, err := keys.Seal(id, "mail password "+id)
		if err != nil {
			t.Fatal(err)
		}
		a, err := st.CreateMailAccount(ctx, store.MailAccount{ID: id, UserID: u.ID, Host: "imap.example.org", Port: 993, TLSMode: "tls",
			Username: "alice", PasswordEnc: sealed, Folder: "INBOX", AfterAction: "mark_read", ImportBody: "none", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	ring := func(env func(string) string) *intake.Keyring {
		k, err := mailKeyring(ctx, cfgFor(env), st)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	a1 := add(ring(base))                                                                      // the instance key
	a2 := add(ring(envMap("DOCUVAULT_INTAKE_MAIL_KEY", k1, "DOCUVAULT_SERVER_DATA_DIR", dir))) // k1

	rotated := envMap("DOCUVAULT_SERVER_DATA_DIR", dir, "DOCUVAULT_INTAKE_MAIL_KEY", k2, "DOCUVAULT_INTAKE_MAIL_OLD_KEYS", k1)
	for _, a := range []store.MailAccount{a1, a2} {
		if pw, err := ring(rotated).Open(a.ID, a.PasswordEnc); err != nil || pw != "mail password "+a.ID {
			t.Fatalf("before rekey: %q, %v", pw, err)
		}
	}
	if code, out := run(rotated, "mail", "rekey"); code != 0 || !strings.Contains(out, "2 re-sealed") {
		t.Fatalf("rekey: %d %s", code, out)
	}
	if code, out := run(rotated, "mail", "rekey"); code != 0 || !strings.Contains(out, "0 re-sealed, 2 already current") {
		t.Fatalf("second rekey: %d %s", code, out)
	}
	only2, err := intake.NewKeyring(bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	all, err := st.AllMailAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		if pw, err := only2.Open(a.ID, a.PasswordEnc); err != nil || pw != "mail password "+a.ID {
			t.Fatalf("after rekey, k2 alone: %q, %v", pw, err)
		}
		// Sealed to its own account: the value moved onto another account does not open.
		if _, err := only2.Open(u.ID, a.PasswordEnc); err == nil {
			t.Fatal("a sealed password opened for another account")
		}
	}
	add(ring(envMap("DOCUVAULT_SERVER_DATA_DIR", dir, "DOCUVAULT_INTAKE_MAIL_KEY", k1)))
	if code, out := run(envMap("DOCUVAULT_SERVER_DATA_DIR", dir, "DOCUVAULT_INTAKE_MAIL_KEY", k2), "mail", "rekey"); code != 1 || !strings.Contains(out, "1 unreadable") {
		t.Fatalf("rekey without the old key: %d %s", code, out)
	}
	if code, out := run(envMap("DOCUVAULT_INTAKE_MAIL_KEY", "short"), "mail", "rekey"); code == 0 || !strings.Contains(out, "intake.mail_key") {
		t.Fatalf("a malformed key: %d %s", code, out)
	}
}
