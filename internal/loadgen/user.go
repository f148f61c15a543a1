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

// functionWords are more than half of any text.
var functionWords = strings.Fields(`the of and to in a for is on your with by this from at be are as or you we our
	please thank`)

// topicWords are the words of a household's and a small business's papers, most common first.
var topicWords = strings.Fields(`invoice payment account total amount due date number customer bank transfer tax
	insurance contract policy period statement balance monthly annual service reference address year month
	electricity gas water rent lease landlord tenant deposit mortgage loan interest rate credit card
	salary payslip employer employee pension health doctor hospital prescription pharmacy dental receipt
	school tuition university course certificate exam passport identity licence vehicle car registration
	repair garage fuel parking fine ticket train flight airline hotel booking reservation trip travel
	telephone mobile internet broadband subscription television streaming software warranty
	guarantee purchase order delivery shipping return refund discount voucher quotation estimate
	membership club gym donation charity church council municipality permit building property survey
	valuation notary court lawyer solicitor agreement settlement claim damage accident liability
	household contents life disability premium renewal cancellation notice reminder overdue
	final demand collection agency dispute complaint correspondence letter meeting minutes report
	budget forecast expense reimbursement mileage allowance vat eur euro
	januar februar märz april mai juni juli august september oktober november dezember rechnung
	versicherung steuer vertrag kündigung mahnung quittung kontoauszug gehalt miete nebenkosten
	energy supplier meter reading consumption kilowatt heating boiler plumber electrician
	kindergarten nursery childcare benefit family marriage birth census vote
	election fund shares dividend portfolio brokerage savings retirement inheritance will`)

// cities are where the trips, the landlords and the offices are: each in a few percent of
// the documents.
var cities = strings.Fields(`lisbon porto madrid barcelona berlin munich hamburg vienna zurich paris lyon amsterdam
	rotterdam brussels london dublin copenhagen stockholm oslo helsinki warsaw prague budapest rome milan`)

// fileKinds name documents as people do: what it is, from whom or where, and when.
var fileKinds = strings.Fields(`invoice statement receipt contract policy payslip letter reminder booking
	ticket certificate report quotation notice rechnung vertrag`)

// SeedUser gives an existing user n classified documents of realistic text (40 to 160 words:
// function words and Zipf-distributed words of household papers, an amount now and then, a
// city in a few percent of them) and plausible names, in transactions of a few thousand multi-row inserts, and
// sets the user's quota use to match. The newest document is the last seeded.
func SeedUser(ctx context.Context, st *store.Store, userID string, n int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 11))
	zipfF := rand.NewZipf(rng, 1.1, 2, uint64(len(functionWords)-1))
	zipfT := rand.NewZipf(rng, 1.1, 3, uint64(len(topicWords)-1))
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
						topicWords[rng.IntN(len(topicWords))], 2015+k%11, 1+k%12, k)
					text.Reset()
					for w := range 40 + rng.IntN(121) {
						if w > 0 {
							text.WriteByte(' ')
						}
						switch r := rng.Float64(); {
						case r < 0.55:
							text.WriteString(functionWords[zipfF.Uint64()])
						case r < 0.96:
							text.WriteString(topicWords[zipfT.Uint64()])
						case r < 0.9975:
							text.WriteString(strconv.Itoa(rng.IntN(100000)))
						default:
							text.WriteString(cities[rng.IntN(len(cities))])
						}
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
	// The table only: a bare ANALYZE on PostgreSQL reads every table of the database.
	if _, err := st.DB().ExecContext(ctx, `ANALYZE documents`); err != nil {
		return fmt.Errorf("loadgen: seed user %s: analyze: %w", userID, err)
	}
	return nil
}
