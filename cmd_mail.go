package main

import (
	"context"
	"fmt"
	"io"

	"github.com/docuvault/docuvault/intake"
	"github.com/docuvault/docuvault/store"
)

// mailKeyring is the keyring sealing IMAP passwords: intake.mail_key (or, when empty, the
// database's instance key) seals; intake.mail_old_keys and the instance key still open,
// so passwords sealed before a rotation work until `docuvault mail rekey` re-seals them.
func mailKeyring(ctx context.Context, cfg Config, st *store.Store) (*intake.Keyring, error) {
	instance, err := intake.InstanceKey(ctx, st)
	if err != nil {
		return nil, err
	}
	keys := [][]byte{instance}
	if cfg.Intake.MailKey != "" {
		k, err := intake.ParseKey(cfg.Intake.MailKey)
		if err != nil {
			return nil, fmt.Errorf("intake.mail_key: %w", err)
		}
		keys = [][]byte{k, instance}
	}
	for _, s := range cfg.Intake.MailOldKeys {
		k, err := intake.ParseKey(s)
		if err != nil {
			return nil, fmt.Errorf("intake.mail_old_keys: %w", err)
		}
		keys = append(keys, k)
	}
	return intake.NewKeyring(keys...)
}

// cmdMail is `docuvault mail rekey`: every stored IMAP password sealed with an older key is
// re-sealed with the current one; after it, the old keys can leave the configuration.
func cmdMail(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	if len(args) == 0 || args[0] != "rekey" {
		return usageError{"mail: want rekey"}
	}
	cfgPath, err := parseFlags("mail rekey", args[1:], stderr, nil)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(cfgPath, env)
	if err != nil {
		return err
	}
	st, _, err := prepare(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := mailKeyring(ctx, cfg, st)
	if err != nil {
		return err
	}
	accounts, err := st.AllMailAccounts(ctx)
	if err != nil {
		return err
	}
	var resealed, current, unreadable int
	for _, a := range accounts {
		if keys.Current(a.PasswordEnc) {
			current++
			continue
		}
		pw, err := keys.Open(a.ID, a.PasswordEnc)
		if err != nil {
			unreadable++
			fmt.Fprintf(stderr, "mail account %s: %v (its owner must enter the password again)\n", a.ID, err)
			continue
		}
		sealed, err := keys.Seal(a.ID, pw)
		if err != nil {
			return err
		}
		if err := st.SetMailPassword(ctx, a.ID, a.PasswordEnc, sealed); err != nil {
			return err
		}
		resealed++
	}
	fmt.Fprintf(stdout, "mail passwords: %d re-sealed, %d already current, %d unreadable\n", resealed, current, unreadable)
	if unreadable > 0 {
		return fmt.Errorf("mail rekey: %d password(s) could not be opened with the configured keys", unreadable)
	}
	return nil
}
