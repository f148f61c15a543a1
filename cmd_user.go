package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/docuvault/docuvault/server"
	"github.com/docuvault/docuvault/store"
)

// cmdUser creates an account or resets a password from the shell (for operators).
func cmdUser(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) error {
	if len(args) == 0 {
		return usageError{"user: want create, reset-password or link"}
	}
	if args[0] == "link" {
		return cmdUserLink(ctx, args[1:], stdout, stderr, env)
	}
	action, rest := args[0], args[1:]
	var username, password string
	var admin bool
	cfgPath, err := parseFlags("user "+action, rest, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "login name")
		if action == "create" {
			fs.BoolVar(&admin, "admin", false, "make an admin")
			fs.StringVar(&password, "password", "", "password (random and to be changed at first login if empty)")
		}
	})
	if err != nil {
		return err
	}
	if username == "" {
		return usageError{"user " + action + ": -username is required"}
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
	mustChange := password == ""
	if mustChange {
		password = server.RandomPassword()
	} else if len(password) < server.MinPasswordLength {
		return usageError{fmt.Sprintf("user create: -password must be at least %d characters", server.MinPasswordLength)}
	}
	hash, err := server.HashPassword(password, server.DefaultPasswordParams)
	if err != nil {
		return err
	}
	switch action {
	case "create":
		role := store.RoleUser
		if admin {
			role = store.RoleAdmin
		}
		u, err := st.CreateUser(ctx, store.NewUser{Username: username, PasswordHash: hash, Role: role,
			PasswordMustChange: mustChange, LimitBytes: cfg.Quota.DefaultLimitBytes})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s %s (id %s)\n", u.Role, u.Username, u.ID)
		if mustChange {
			fmt.Fprintf(stdout, "temporary password: %s\n", password)
		}
	case "reset-password":
		u, err := st.UserByUsername(ctx, username)
		if err != nil {
			return fmt.Errorf("user %q: %w", username, err)
		}
		if _, err := st.SetPassword(ctx, u.ID, hash, true); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "temporary password: %s\n", password)
	default:
		return usageError{fmt.Sprintf("user: unknown action %q (want create or reset-password)", action)}
	}
	return nil
}
