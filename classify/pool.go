package classify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/docuvault/docuvault/blob"
	"github.com/docuvault/docuvault/content"
	"github.com/docuvault/docuvault/store"
)

// Store is what the pool needs of the database.
type Store interface {
	ClaimNext(ctx context.Context, lease time.Duration) (store.Job, error)
	CompleteJob(ctx context.Context, j store.Job, text string, topics []store.Assignment, note *string) error
	FailJob(ctx context.Context, j store.Job, reason string, retryIn time.Duration, final bool) error
	ReleaseJob(ctx context.Context, j store.Job) error
	UserByID(ctx context.Context, id string) (store.User, error)
	VisibleTopics(ctx context.Context, userID string) ([]store.Topic, error)
	UserTopicModel(ctx context.Context, userID string, terms func() []string) (store.TopicModel, error)
	RecordChecksum(ctx context.Context, id, sum string) error
	SetThumbnail(ctx context.Context, id, contentType string) (bool, error)
}

// Blobs is what the pool needs of the blob store.
type Blobs interface {
	Open(ctx context.Context, key string) (io.ReadSeekCloser, blob.Info, error)
}

// Config tunes the pool.
type Config struct {
	Workers         int
	MaxAttempts     int
	PollInterval    time.Duration // how often idle workers look for work queued elsewhere
	Lease           time.Duration // a claim not finished by then is free again
	Timeout         time.Duration // per document
	BackoffBase     time.Duration // first retry delay, doubled each attempt
	BackoffMax      time.Duration
	DefaultProvider string
	Limits          Limits
	Policy          Policy // which ranked topics are assigned; zero: DefaultPolicy
	// Content, if set, reads PDFs and images (PDFium, OCR) and makes their thumbnails.
	Content *content.Reader
	Logger  *slog.Logger
	// Observe, if set, is told each outcome ("classified", "retry", "failed") with its provider and duration.
	Observe func(provider, outcome string, d time.Duration)
}

// Pool is N workers classifying documents until stopped.
type Pool struct {
	cfg       Config
	store     Store
	blobs     Blobs
	providers map[string]Provider
	wake      chan struct{}
	stop      chan struct{}
	hardStop  context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	startOnce sync.Once
	stopOnce  sync.Once

	mu      sync.Mutex
	origins map[string]string // document ID → request ID that queued it (this replica only)
}

// maxOrigins bounds the request IDs kept for documents another replica may classify.
const maxOrigins = 10_000

// New builds a pool with the enabled providers by name ("local" is always there).
func New(cfg Config, st Store, blobs Blobs, providers map[string]Provider) *Pool {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = 10 * time.Second
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = time.Hour
	}
	if cfg.DefaultProvider == "" {
		cfg.DefaultProvider = "local"
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	if cfg.Policy == (Policy{}) {
		cfg.Policy = DefaultPolicy
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	all := map[string]Provider{"local": NewLocal()}
	for k, v := range providers {
		all[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Pool{cfg: cfg, store: st, blobs: blobs, providers: all, wake: make(chan struct{}, cfg.Workers),
		stop: make(chan struct{}), hardStop: ctx, cancel: cancel, origins: map[string]string{}}
}

// Start launches the workers.
func (p *Pool) Start() {
	p.startOnce.Do(func() {
		for i := 0; i < p.cfg.Workers; i++ {
			p.wg.Add(1)
			go p.work()
		}
	})
}

// Notify wakes an idle worker at once (a document was confirmed or re-queued).
func (p *Pool) Notify() {
	select {
	case p.wake <- struct{}{}:
	default: // enough wake-ups pending already
	}
}

// NotifyDocument wakes a worker for a document and remembers the request that queued it, so
// the worker's log lines about the document carry the same request ID.
func (p *Pool) NotifyDocument(documentID, requestID string) {
	if requestID != "" {
		p.mu.Lock()
		if len(p.origins) >= maxOrigins {
			clear(p.origins) // another replica took those documents
		}
		p.origins[documentID] = requestID
		p.mu.Unlock()
	}
	p.Notify()
}

// origin returns (and forgets) the request ID that queued a document.
func (p *Pool) origin(documentID string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := p.origins[documentID]
	delete(p.origins, documentID)
	return id
}

// Stop stops claiming, lets running documents finish until ctx ends, then cancels them
// (their leases are released so another worker or replica takes them).
func (p *Pool) Stop(ctx context.Context) error {
	p.stopOnce.Do(func() { close(p.stop) })
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		p.cancel()
		return nil
	case <-ctx.Done():
		p.cancel()
		<-done
		return fmt.Errorf("classify: stop: %w", ctx.Err())
	}
}

func (p *Pool) work() {
	defer p.wg.Done()
	poll := time.NewTicker(p.cfg.PollInterval)
	defer poll.Stop()
	for {
		select {
		case <-p.stop:
			return
		default:
		}
		job, err := p.store.ClaimNext(p.hardStop, p.cfg.Lease)
		if err == nil {
			p.process(job)
			continue
		}
		if !errors.Is(err, store.ErrNotFound) && p.hardStop.Err() == nil {
			p.cfg.Logger.Error("classification claim failed", "err", err)
		}
		select {
		case <-p.stop:
			return
		case <-p.wake:
		case <-poll.C:
		}
	}
}

// process classifies one claimed document and records the outcome.
func (p *Pool) process(j store.Job) {
	log := p.cfg.Logger.With("document_id", j.DocumentID, "user_id", j.UserID, "attempt", j.Attempts)
	if rid := p.origin(j.DocumentID); rid != "" {
		log = log.With("request_id", rid)
	}
	ctx, cancel := context.WithTimeout(p.hardStop, p.cfg.Timeout)
	defer cancel()
	start := time.Now()
	providerName, text, topics, note, err := p.classify(ctx, j)
	bg := context.Background()
	if p.hardStop.Err() != nil {
		// Shutting down mid-document: give it back untouched.
		if rerr := p.store.ReleaseJob(bg, j); rerr != nil {
			log.Error("classification lease not released", "err", rerr)
		}
		return
	}
	if dup := (*store.DuplicateError)(nil); errors.As(err, &dup) {
		// Uploaded straight to the object store, so its bytes were first hashed here: the
		// store removed it as a second copy and gave its bytes back to the quota.
		log.Info("duplicate upload removed", "existing_id", dup.ExistingID)
		return
	}
	if err == nil {
		if err := p.store.CompleteJob(bg, j, text, topics, note); err != nil {
			log.Error("classification not saved", "err", err)
			return
		}
		p.observe(providerName, "classified", time.Since(start))
		log.Info("document classified", "provider", providerName, "topics", len(topics))
		return
	}
	var pe *ProviderError
	var unreadable *UnreadableError
	retryable := (!errors.As(err, &pe) || pe.Retryable) && !errors.As(err, &unreadable)
	final := !retryable || j.Attempts >= p.cfg.MaxAttempts
	wait := p.backoff(j.Attempts)
	if pe != nil && pe.RetryAfter > wait {
		wait = pe.RetryAfter
	}
	reason := err.Error()
	if final && retryable {
		reason = fmt.Sprintf("gave up after %d attempts: %s", j.Attempts, reason)
	}
	if ferr := p.store.FailJob(bg, j, reason, wait, final); ferr != nil {
		log.Error("classification failure not saved", "err", ferr)
		return
	}
	outcome := "retry"
	if final {
		outcome = "failed"
	}
	p.observe(providerName, outcome, time.Since(start))
	log.Warn("classification failed", "provider", providerName, "final", final, "retry_in", wait.String(), "err", err)
}

func (p *Pool) observe(provider, outcome string, d time.Duration) {
	if p.cfg.Observe != nil {
		p.cfg.Observe(provider, outcome, d)
	}
}

// backoff is BackoffBase doubled per attempt already made, capped at BackoffMax.
func (p *Pool) backoff(attempts int) time.Duration {
	d := float64(p.cfg.BackoffBase) * math.Pow(2, float64(max(attempts-1, 0)))
	return time.Duration(min(d, float64(p.cfg.BackoffMax)))
}

// classify loads the document, extracts its text and asks the owner's provider.
func (p *Pool) classify(ctx context.Context, j store.Job) (provider, text string, topics []store.Assignment, note *string, err error) {
	owner, err := p.store.UserByID(ctx, j.UserID)
	if err != nil {
		return "", "", nil, nil, err
	}
	provider, model := p.cfg.DefaultProvider, ""
	if owner.AIProvider != nil {
		provider = *owner.AIProvider
	}
	if owner.AIModel != nil {
		model = *owner.AIModel
	}
	prov, ok := p.providers[provider]
	if !ok {
		return provider, "", nil, nil, &ProviderError{Provider: provider, Err: errors.New("provider is not enabled on this server")}
	}
	text, note, err = p.extract(ctx, j)
	if err != nil {
		return provider, "", nil, nil, err
	}
	visible, err := p.store.VisibleTopics(ctx, j.UserID)
	if err != nil {
		return provider, "", nil, nil, err
	}
	candidates := make([]Candidate, len(visible))
	for i, t := range visible {
		candidates[i] = Candidate{ID: t.ID, Name: t.Name, Description: t.Description, System: t.System()}
	}
	if len(candidates) == 0 {
		return provider, text, nil, note, nil // nothing to choose from
	}
	req := Request{Model: model, Filename: j.Filename, Text: text, Candidates: candidates}
	if l, local := prov.(Local); local {
		req.Learned, err = p.store.UserTopicModel(ctx, j.UserID, func() []string {
			terms := termsOf(l.cache, j.Filename, text)
			out := make([]string, 0, len(terms))
			for t := range terms {
				out = append(out, t)
			}
			return out
		})
		if err != nil {
			return provider, "", nil, nil, err
		}
	}
	choices, err := prov.Classify(ctx, req)
	if err != nil {
		return provider, "", nil, nil, err
	}
	return provider, text, p.assignments(choices, candidates), note, nil
}

// assignments keeps the choices that name a candidate and lets the policy decide which are
// assigned and which only suggested.
func (p *Pool) assignments(choices []Choice, candidates []Candidate) []store.Assignment {
	confidence := map[string]float64{}
	for _, c := range choices {
		if _, seen := confidence[normName(c.Name)]; !seen {
			confidence[normName(c.Name)] = c.Confidence
		}
	}
	var valid []Choice
	ids := map[string]string{}
	for _, c := range Resolve(choices, candidates) {
		valid = append(valid, Choice{Name: c.Name, Confidence: confidence[normName(c.Name)]})
		ids[c.Name] = c.ID
	}
	assign, suggest := p.cfg.Policy.Decide(valid)
	var out []store.Assignment
	for _, c := range assign {
		out = append(out, store.Assignment{TopicID: ids[c.Name], Confidence: c.Confidence})
	}
	for _, c := range suggest {
		out = append(out, store.Assignment{TopicID: ids[c.Name], Confidence: c.Confidence, Suggested: true})
	}
	return out
}

// extract reads the document's text; a file it cannot read is still classified by its name,
// with a note saying why.
func (p *Pool) extract(ctx context.Context, j store.Job) (string, *string, error) {
	r, info, err := p.blobs.Open(ctx, j.ObjectKey)
	if err != nil {
		return "", nil, fmt.Errorf("reading the stored file: %w", err)
	}
	defer r.Close()
	if err := p.recordChecksum(ctx, j, r); err != nil {
		return "", nil, err
	}
	if j.Text != "" {
		return j.Text, nil, nil // it came with the document (an import): no extraction or OCR again
	}
	if p.cfg.Content != nil {
		if kind := content.Kind(j.ContentType, j.Filename); kind != "" {
			return p.readContent(ctx, j, kind, r, info.Size)
		}
	}
	ra, ok := r.(io.ReaderAt)
	if !ok {
		ra = &seekReaderAt{r: r}
	}
	// Extraction runs on this goroutine, not a helper left behind at the timeout: its reads
	// fail once ctx ends, so it returns at the deadline and never reads a closed object.
	text, err := ExtractContext(ctx, ra, info.Size, j.ContentType, j.Filename, p.cfg.Limits)
	if ctx.Err() != nil {
		return "", nil, err
	}
	if err != nil {
		msg := "text could not be extracted (" + err.Error() + "); classified by file name only"
		if errors.Is(err, ErrUnsupported) {
			msg = "file type has no text extractor; classified by file name only"
		}
		return "", &msg, nil
	}
	return text, nil, nil
}

// recordChecksum records the SHA-256 of a document uploaded straight to the object store
// (the local store records it while the bytes stream in): the worker reads the object
// anyway, so it hashes it once, from the start, and rewinds for the extractor.
func (p *Pool) recordChecksum(ctx context.Context, j store.Job, r io.ReadSeeker) error {
	if j.SHA256 != "" {
		return nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, r}); err != nil {
		return fmt.Errorf("reading the stored file: %w", err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("reading the stored file: %w", err)
	}
	return p.store.RecordChecksum(ctx, j.DocumentID, hex.EncodeToString(h.Sum(nil)))
}

// ctxReader stops a long read when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// seekReaderAt adapts a ReadSeeker to ReaderAt (one reader at a time).
type seekReaderAt struct {
	mu sync.Mutex
	r  io.ReadSeeker
}

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.r.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	n, err := io.ReadFull(s.r, p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}
