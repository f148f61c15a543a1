package intake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/docuvault/docuvault/ingest"
	"github.com/docuvault/docuvault/store"
)

// PollAll polls every enabled account of an active user once. An account another replica
// is polling is skipped; one account's failure is recorded on it and does not stop the
// others. The error is a failure of DocuVault's own dependencies.
func (m *Mail) PollAll(ctx context.Context) error {
	accounts, err := m.o.Store.MailAccountsToPoll(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range accounts {
		if ctx.Err() != nil {
			break
		}
		if err := m.PollAccount(ctx, a); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// PollAccount imports the new messages of one account and records the outcome on it
// (last_polled_at, last_error). It returns only failures of the store.
func (m *Mail) PollAccount(ctx context.Context, a store.MailAccount) error {
	now := m.o.Now()
	ok, err := m.o.Store.ClaimMailAccount(ctx, a.ID, now.Add(m.o.Timeout+time.Minute), now)
	if err != nil || !ok {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, m.o.Timeout)
	defer cancel()
	log := m.log.With("mail_account_id", a.ID, "user_id", a.UserID)
	perr := m.poll(pctx, a, log)
	text := ""
	var p *Problem
	switch {
	case perr == nil:
	case errors.As(perr, &p):
		text = p.Text
		log.Warn("mail account poll problem", "problem", p.Text)
	default:
		text = "a temporary failure on DocuVault's side; retried at the next poll"
		log.Error("mail account poll failed", "err", perr)
	}
	// Recorded even when ctx ended, so the hold is released for the next tick.
	if err := m.o.Store.FinishMailPoll(context.WithoutCancel(ctx), a.ID, text, m.o.Now()); err != nil {
		return err
	}
	if perr != nil && !errors.As(perr, &p) {
		return perr
	}
	return nil
}

// poll runs one pass over the account's folder: select, search, each message in UID order.
func (m *Mail) poll(ctx context.Context, a store.MailAccount, log interface {
	Info(string, ...any)
}) error {
	s, err := m.dial(ctx, a)
	if err != nil {
		return err
	}
	defer s.close()
	sel, err := s.c.Select(a.Folder, nil).Wait()
	if err != nil {
		return problem(err, "cannot open folder %q: %v", a.Folder, err)
	}
	criteria := &imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}
	if a.AfterAction == "mark_read" {
		criteria.NotFlag = append(criteria.NotFlag, imap.FlagSeen)
	}
	if a.FromFilter != "" {
		criteria.Header = append(criteria.Header, imap.SearchCriteriaHeaderField{Key: "From", Value: a.FromFilter})
	}
	if a.SubjectFilter != "" {
		criteria.Header = append(criteria.Header, imap.SearchCriteriaHeaderField{Key: "Subject", Value: a.SubjectFilter})
	}
	found, err := s.c.UIDSearch(criteria, nil).Wait()
	if err != nil {
		return problem(err, "search failed: %v", err)
	}
	seen, err := m.o.Store.MailMessages(ctx, a.ID, sel.UIDValidity)
	if err != nil {
		return err
	}
	uids := found.AllUIDs()
	slices.Sort(uids)
	var refusals []string
	taken := 0
	for _, uid := range uids {
		if ctx.Err() != nil {
			return problem(ctx.Err(), "the poll ran out of time; it continues at the next poll")
		}
		k := store.MailKey{AccountID: a.ID, UIDValidity: sel.UIDValidity, UID: uint32(uid)}
		rec := seen[k.UID]
		switch rec.State {
		case store.MailActed:
			continue
		case store.MailRefused, store.MailFailed:
			// Left on the server for the user, never retried; reported while it is there.
			refusals = append(refusals, rec.Error)
			continue
		case store.MailDone: // committed, but the after-action did not happen yet
			if err := m.afterAction(ctx, s.c, a, uid, k); err != nil {
				return err
			}
			continue
		}
		if taken == m.o.MaxMessages {
			break
		}
		taken++
		res, err := m.importMessage(ctx, s.c, a, k)
		if err != nil {
			return err
		}
		switch res.state {
		case store.MailDone:
			log.Info("mail message imported", "uid", k.UID, "documents", res.added)
			if err := m.afterAction(ctx, s.c, a, uid, k); err != nil {
				return err
			}
		default:
			refusals = append(refusals, res.reason)
		}
	}
	if len(refusals) > 0 {
		distinct := slices.Compact(slices.Sorted(slices.Values(refusals)))
		if len(distinct) > 3 {
			distinct = append(distinct[:3], "…")
		}
		return problem(nil, "%d message(s) left on the server: %s", len(refusals), strings.Join(distinct, "; "))
	}
	return nil
}

// mailOutcome is what one message came to.
type mailOutcome struct {
	state  string // MailDone, MailRefused, MailFailed
	reason string
	added  int
}

// importMessage streams one message and adds its files. Each file is recorded with its
// pending document before any byte is stored and marked done after the commit, and the
// message is marked done only after all of them: a poll that dies anywhere is finished by
// the next one without losing or duplicating a file.
func (m *Mail) importMessage(ctx context.Context, c *imapclient.Client, a store.MailAccount, k store.MailKey) (mailOutcome, error) {
	parts, err := m.o.Store.MailParts(ctx, k)
	if err != nil {
		return mailOutcome{}, err
	}
	set := imap.UIDSetNum(imap.UID(k.UID))
	envs, err := c.Fetch(set, &imap.FetchOptions{UID: true, Envelope: true}).Collect()
	if err != nil {
		return mailOutcome{}, problem(err, "fetching message %d failed: %v", k.UID, err)
	}
	if len(envs) == 0 || envs[0].Envelope == nil {
		return mailOutcome{state: store.MailActed}, nil // gone meanwhile (another client moved it)
	}
	messageID := strings.ToValidUTF8(envs[0].Envelope.MessageID, "")
	if len(parts) == 0 {
		// A copy of a message this account imported already (or the folder's UIDVALIDITY
		// changed): the same Message-ID is not imported again.
		if dup, err := m.o.Store.MailMessageIDSeen(ctx, k, messageID); err != nil {
			return mailOutcome{}, err
		} else if dup {
			return mailOutcome{state: store.MailDone}, m.o.Store.RecordMailMessage(ctx, k, messageID, store.MailDone, "")
		}
	}
	section := &imap.FetchItemBodySection{Peek: true}
	cmd := c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	defer cmd.Close()
	msg := cmd.Next()
	if msg == nil {
		if err := cmd.Close(); err != nil {
			return mailOutcome{}, problem(err, "fetching message %d failed: %v", k.UID, err)
		}
		return mailOutcome{state: store.MailActed}, nil // gone meanwhile (another client moved it)
	}
	var body imapclient.FetchItemDataBodySection
	for {
		item := msg.Next()
		if item == nil {
			break
		}
		if b, ok := item.(imapclient.FetchItemDataBodySection); ok {
			body = b
			break
		}
	}
	if body.Literal == nil {
		return mailOutcome{}, problem(cmd.Close(), "the server sent no body for message %d", k.UID)
	}
	out := mailOutcome{state: store.MailDone}
	src := &trackedReader{r: body.Literal}
	_, err = walkMessage(src, a.ImportBody == "text", func(f mailFile) error {
		rec, ok := parts[f.Ordinal]
		if ok && (rec.State == "done" || rec.State == "refused") {
			return nil
		}
		if ok && rec.DocumentID != "" {
			committed, err := m.settleEarlier(ctx, a.UserID, rec.DocumentID)
			if err != nil {
				return err
			}
			if committed {
				return m.o.Store.RecordMailPart(ctx, k, f.Ordinal, store.MailPart{DocumentID: rec.DocumentID, State: "done"})
			}
		}
		d, err := m.o.Ingest.Add(ctx, a.UserID, ingest.File{Filename: f.Filename, ContentType: f.ContentType, Body: f.Body, Size: -1,
			Pending: func(ctx context.Context, id string) error {
				return m.o.Store.RecordMailPart(ctx, k, f.Ordinal, store.MailPart{DocumentID: id, State: "pending"})
			}})
		var r *ingest.Refusal
		switch {
		case err == nil:
			out.added++
			return m.o.Store.RecordMailPart(ctx, k, f.Ordinal, store.MailPart{DocumentID: d.ID, State: "done"})
		case errors.As(err, &r) && (r.Kind == ingest.KindTypeNotAccepted || r.Kind == ingest.KindInvalidType || r.Kind == ingest.KindDuplicate):
			// Not a document this vault takes, or one it holds already: nothing to report.
			return m.o.Store.RecordMailPart(ctx, k, f.Ordinal, store.MailPart{State: "refused", Error: r.Message})
		case errors.As(err, &r) && r.Kind == ingest.KindUnreadable && src.err != nil:
			return problem(err, "reading message %d from the server failed: %v", k.UID, src.err)
		case errors.As(err, &r) && r.Kind == ingest.KindUnreadable:
			return fmt.Errorf("%w: attachment %q cannot be decoded: %v", errMalformed, f.Filename, r.Err)
		case errors.As(err, &r):
			out.state, out.reason = store.MailRefused, fmt.Sprintf("%q refused: %s", f.Filename, r.Message)
			return m.o.Store.RecordMailPart(ctx, k, f.Ordinal, store.MailPart{State: "refused", Error: r.Message})
		}
		return err
	})
	if errors.Is(err, errMalformed) {
		out = mailOutcome{state: store.MailFailed, reason: fmt.Sprintf("message %d could not be read: %v", k.UID, err)}
	} else if err != nil {
		return mailOutcome{}, err
	}
	if err := cmd.Close(); err != nil && out.state != store.MailFailed {
		return mailOutcome{}, problem(err, "fetching message %d failed: %v", k.UID, err)
	}
	if err := m.o.Store.RecordMailMessage(ctx, k, messageID, out.state, out.reason); err != nil {
		return mailOutcome{}, err
	}
	return out, nil
}

// settleEarlier decides what a document an earlier poll started became: committed
// (true), or not, in which case its pending row is discarded and the file added afresh.
func (m *Mail) settleEarlier(ctx context.Context, userID, documentID string) (bool, error) {
	d, err := m.o.Store.Document(ctx, userID, documentID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if d.Status != store.StatusPending {
		return true, nil
	}
	m.o.Ingest.Discard(ctx, userID, documentID)
	d, err = m.o.Store.Document(ctx, userID, documentID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if d.Status == store.StatusPending {
		return false, fmt.Errorf("intake: pending document %s could not be discarded", documentID)
	}
	return true, nil
}

// afterAction applies the account's after-processing action to a committed message and
// records it applied.
func (m *Mail) afterAction(ctx context.Context, c *imapclient.Client, a store.MailAccount, uid imap.UID, k store.MailKey) error {
	set := imap.UIDSetNum(uid)
	var err error
	switch {
	case a.AfterAction == "mark_read":
		err = c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close()
	case a.AfterAction == "delete":
		if err = c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err == nil {
			if c.Caps().Has(imap.CapUIDPlus) {
				err = c.UIDExpunge(set).Close()
			} else {
				err = c.Expunge().Close()
			}
		}
	case strings.HasPrefix(a.AfterAction, "move:"):
		_, err = c.Move(set, strings.TrimPrefix(a.AfterAction, "move:")).Wait()
	}
	if err != nil {
		return problem(err, "the after-processing action %q failed: %v", a.AfterAction, err)
	}
	return m.o.Store.RecordMailMessage(ctx, k, "", store.MailActed, "")
}

// trackedReader remembers a failure of the connection, to tell it from a message that
// cannot be decoded.
type trackedReader struct {
	r   io.Reader
	err error
}

func (t *trackedReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		t.err = err
	}
	return n, err
}
