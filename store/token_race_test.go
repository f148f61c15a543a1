package store_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/docuvault/docuvault/store"
)

// TestTokenCreationRacesPasswordChange: token creations authenticated at the old epoch,
// racing a password change, either fail with ErrCredentialsChanged or are revoked by the
// change: no token survives it.
func TestTokenCreationRacesPasswordChange(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for round := range 5 {
			u := mustUser(t, s, "racer"+strconv.Itoa(round), store.RoleUser, 100)
			start := make(chan struct{})
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for i := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, err := s.CreateToken(ctx, u.ID, u.SessionEpoch, "t", "hash-"+strconv.Itoa(round)+"-"+strconv.Itoa(i), nil)
					if err != nil && !errors.Is(err, store.ErrCredentialsChanged) {
						errs <- err
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if _, err := s.SetPassword(ctx, u.ID, "new", false); err != nil {
					errs <- err
				}
			}()
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			toks, err := s.ListTokens(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(toks) != 0 {
				t.Fatalf("round %d: %d tokens of the old epoch survived the password change", round, len(toks))
			}
		}
	})
}
