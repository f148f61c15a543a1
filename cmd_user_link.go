package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/docuvault/docuvault/store"
)

// cmdUserLink is an admin's explicit link of an existing account to single sign-on: by the
// provider's subject (the account is that person's from the next login on), or by an email
// address that a login with the same verified email will be linked by.
func cmdUserLink(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	var username, subject, issuer, email string
	cfgPath, err := parseFlags("user link", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "the DocuVault account")
		fs.StringVar(&subject, "subject", "", "the provider's subject (the ID token's sub claim)")
		fs.StringVar(&issuer, "issuer", "", "the provider (default: oidc.issuer)")
		fs.StringVar(&email, "email", "", "link the first login with this verified email instead")
	})
	if err != nil {
		return err
	}
	if username == "" || (subject == "" && email == "") {
		return usageError{"user link: -username and -subject or -email are required"}
	}
	cfg, err := loadConfig(cfgPath, env)
	if err != nil {
		return err
	}
	if issuer == "" {
		issuer = cfg.OIDC.Issuer
	}
	if subject != "" && issuer == "" {
		return usageError{"user link: -issuer is required when oidc.issuer is not configured"}
	}
	st, _, err := prepare(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.UserByUsername(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return usageError{fmt.Sprintf("no user %q", username)}
	}
	if err != nil {
		return err
	}
	if email != "" {
		if err := st.SetEmail(ctx, u.ID, email); errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("another account has the email %s", email)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s will be linked by the verified email %s\n", u.Username, email)
	}
	if subject != "" {
		if err := st.LinkIdentity(ctx, u.ID, issuer, subject); errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("subject %s of %s is linked to an account already", subject, issuer)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is linked to subject %s of %s\n", u.Username, subject, issuer)
	}
	_ = st.Audit(ctx, u.ID, "user.linked", u.Username, "")
	return nil
}
