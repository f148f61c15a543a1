package loadgen

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/docuvault/docuvault/store"
)

// realWords are the words of a household's and a small business's papers, most common
// first: searched as a person would search them ("lisb", "insur", "invoice").
var realWords = strings.Fields(`the of and to in a for is on your with by this from at be are as or you we our
	invoice payment account total amount due date number customer bank transfer tax insurance contract
	policy period statement balance monthly annual service reference address please thank year month
	electricity gas water rent lease landlord tenant deposit mortgage loan interest rate credit card
	salary payslip employer employee pension health doctor hospital prescription pharmacy dental receipt
	school tuition university course certificate exam passport identity licence vehicle car registration
	repair garage fuel parking fine ticket train flight airline hotel booking reservation trip travel
	lisbon porto madrid barcelona berlin munich hamburg vienna zurich paris lyon amsterdam rotterdam
	brussels london dublin copenhagen stockholm oslo helsinki warsaw prague budapest rome milan
	telephone mobile internet broadband subscription television streaming software licence warranty
	guarantee purchase order delivery shipping return refund discount voucher quotation estimate
	membership club gym donation charity church council municipality permit building property survey
	valuation notary court lawyer solicitor agreement settlement claim damage accident liability
	household contents travel life disability premium renewal cancellation notice reminder overdue
	final demand collection agency dispute complaint correspondence letter meeting minutes report
	budget forecast expense reimbursement mileage allowance invoice-copy vat eur euro francs krona
	januar februar märz april mai juni juli august september oktober november dezember rechnung
	versicherung steuer vertrag kündigung mahnung quittung kontoauszug gehalt miete nebenkosten
	energy supplier meter reading consumption kilowatt heating boiler plumber electrician
	kindergarten nursery childcare allowance benefit family marriage birth certificate census vote
	election pension fund shares dividend portfolio brokerage savings retirement inheritance will`)

// fileKinds name documents as people do: what it is, from whom or where, and when.
var fileKinds = strings.Fields(`invoice statement receipt contract policy payslip letter reminder booking
	ticket certificate report quotation notice rechnung vertrag`)

// SeedUser gives an existing user n classified documents of realistic text (40 to 160 words,
// Zipf-distributed over real words, so common words are in most documents and a city in a
// few percent) and plausible names, in transactions of a few thousand multi-row inserts, and
// sets the user's quota use to match. The newest document is the last seeded.
func SeedUser(ctx context.Context, st *store.Store, userID string, n int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 11))
	zipf := rand.NewZipf(rng, 1.1, 3, uint64(len(realWords)-1))
	start := time.Now().Add(-time.Duration(n+60) * time.Second).UTC()
	const batch, perInsert = 2000, 200
	var text strings.Builder
	for done := 0; done < n; {
		end := min(done+batch, n)
		err := inTx(ctx, st.DB(), func(tx *sql.Tx) error {
			for i := done; i < end; i += perInsert {
				rows := min(perInsert, end-i)
				var q strings.Builder
				q.WriteString(`INSERT INTO documents (id, user_id, filename, name_key, content_type, object_key, size_bytes,
					status, created_at, uploaded_at, classified_at, text) VALUES `)
				args := make([]any, 0, rows*8)
				for r := range rows {
					k := i + r
					id := uuid.Must(uuid.NewV7()).String()
					at := start.Add(time.Duration(k) * time.Second)
					name := fmt.Sprintf("%s-%s-%d-%02d-%05d.pdf", fileKinds[rng.IntN(len(fileKinds))],
						realWords[70+rng.IntN(len(realWords)-70)], 2015+k%11, 1+k%12, k)
					text.Reset()
					for w := range 40 + rng.IntN(121) {
						if w > 0 {
							text.WriteByte(' ')
						}
						if w%17 == 16 {
							text.WriteString(strconv.Itoa(rng.IntN(100000)))
							continue
						}
						text.WriteString(realWords[zipf.Uint64()])
					}
					if r > 0 {
						q.WriteString(", ")
					}
					b := len(args)
					fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, 'application/pdf', $%d, $%d, 'classified', $%d, $%d, $%d, $%d)",
						b+1, b+2, b+3, b+3, b+4, b+5, b+6, b+6, b+6, b+7)
					args = append(args, id, userID, name, store.ObjectKeyFor(userID, id), int64(20000+rng.IntN(2000000)), at, text.String())
				}
				if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("loadgen: seed user %s: %w", userID, err)
		}
		done = end
	}
	if _, err := st.DB().ExecContext(ctx, `UPDATE quotas SET used_bytes = (SELECT COALESCE(SUM(size_bytes), 0) FROM documents d WHERE d.user_id = quotas.user_id),
		document_count = (SELECT COUNT(*) FROM documents d WHERE d.user_id = quotas.user_id) WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("loadgen: seed user %s: quota: %w", userID, err)
	}
	if _, err := st.DB().ExecContext(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("loadgen: seed user %s: analyze: %w", userID, err)
	}
	return nil
}
