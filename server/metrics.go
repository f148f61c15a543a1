package server

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/docuvault/docuvault/blob"
)

// Metrics are DocuVault's Prometheus series, in a registry of their own.
type Metrics struct {
	Registry           *prometheus.Registry
	requests           *prometheus.CounterVec
	latency            *prometheus.HistogramVec
	classifyDuration   *prometheus.HistogramVec
	classifyOutcomes   *prometheus.CounterVec
	blobErrors         *prometheus.CounterVec
	quotaRejections    prometheus.Counter
	scheduledJobs      *prometheus.CounterVec
	scheduledJobErrors *prometheus.CounterVec
}

// NewMetrics registers the series; gauges read the database when scraped.
func NewMetrics(db *sql.DB, queueDepth, outboxSize func(context.Context) (int, error)) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docuvault_http_requests_total", Help: "HTTP requests by route pattern, method and status."},
		[]string{"route", "method", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "docuvault_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
		Buckets: prometheus.DefBuckets}, []string{"route", "method"})
	m.classifyDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "docuvault_classification_duration_seconds",
		Help: "Time to classify one document, by provider and outcome.", Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}},
		[]string{"provider", "outcome"})
	m.classifyOutcomes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docuvault_classifications_total", Help: "Classification attempts by provider and outcome (classified, retry, failed)."},
		[]string{"provider", "outcome"})
	m.blobErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docuvault_blob_errors_total", Help: "Blob store operations that failed, by operation."},
		[]string{"op"})
	m.quotaRejections = prometheus.NewCounter(prometheus.CounterOpts{Name: "docuvault_quota_rejections_total", Help: "Uploads refused for exceeding a quota or the size limit."})
	m.scheduledJobs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docuvault_scheduled_job_runs_total", Help: "Scheduled maintenance runs on this replica, by job."}, []string{"job"})
	m.scheduledJobErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "docuvault_scheduled_job_errors_total", Help: "Scheduled maintenance runs that failed, by job."}, []string{"job"})
	gauge := func(name, help string, read func(context.Context) (int, error)) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := read(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		})
	}
	m.Registry.MustRegister(m.requests, m.latency, m.classifyDuration, m.classifyOutcomes, m.blobErrors, m.quotaRejections,
		m.scheduledJobs, m.scheduledJobErrors,
		gauge("docuvault_classification_queue_depth", "Documents waiting for classification.", queueDepth),
		gauge("docuvault_deletion_outbox_size", "Objects queued for deletion from the blob store.", outboxSize),
		collectors.NewDBStatsCollector(db, "docuvault"),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveClassification records one classification outcome (the pool's Observe hook).
func (m *Metrics) ObserveClassification(provider, outcome string, d time.Duration) {
	m.classifyOutcomes.WithLabelValues(provider, outcome).Inc()
	m.classifyDuration.WithLabelValues(provider, outcome).Observe(d.Seconds())
}

// instrument counts and times every request by its route pattern (never the raw path).
func (m *Metrics) instrument(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, c.Request().Method, strconv.Itoa(c.Response().Status)).Inc()
		m.latency.WithLabelValues(route, c.Request().Method).Observe(time.Since(start).Seconds())
		return nil
	}
}

// handler serves the metrics, behind a bearer token when one is configured.
func (m *Metrics) handler(token string) echo.HandlerFunc {
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
	return func(c echo.Context) error {
		if token != "" {
			got := c.Request().Header.Get("Authorization")
			if subtle.ConstantTimeCompare([]byte(got), []byte("Bearer "+token)) != 1 {
				return fail(http.StatusUnauthorized, "metrics token required")
			}
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// countedBlobs wraps a blob store and counts its failures (a missing object is not one).
type countedBlobs struct {
	blob.Store
	errs *prometheus.CounterVec
}

func (c countedBlobs) count(op string, err error) error {
	if err != nil && !errors.Is(err, blob.ErrNotFound) && !errors.Is(err, blob.ErrTooLarge) {
		c.errs.WithLabelValues(op).Inc()
	}
	return err
}

func (c countedBlobs) PresignPut(ctx context.Context, key string, size int64, ct string, ttl time.Duration) (blob.PresignedPut, error) {
	p, err := c.Store.PresignPut(ctx, key, size, ct, ttl)
	return p, c.count("presign_put", err)
}

func (c countedBlobs) Put(ctx context.Context, key string, r io.Reader, max int64, ct string) (blob.Info, error) {
	i, err := c.Store.Put(ctx, key, r, max, ct)
	return i, c.count("put", err)
}

func (c countedBlobs) Stat(ctx context.Context, key string) (blob.Info, error) {
	i, err := c.Store.Stat(ctx, key)
	return i, c.count("stat", err)
}

func (c countedBlobs) Open(ctx context.Context, key string) (io.ReadSeekCloser, blob.Info, error) {
	r, i, err := c.Store.Open(ctx, key)
	return r, i, c.count("open", err)
}

func (c countedBlobs) Move(ctx context.Context, src, dst string) (blob.Info, error) {
	i, err := c.Store.Move(ctx, src, dst)
	return i, c.count("move", err)
}

func (c countedBlobs) Delete(ctx context.Context, key string) error {
	return c.count("delete", c.Store.Delete(ctx, key))
}

func (c countedBlobs) Ping(ctx context.Context) error { return c.count("ping", c.Store.Ping(ctx)) }
