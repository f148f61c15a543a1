package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the database and the blob store answer (saying whether OCR is
// available), else 503 naming which failed.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("readiness: database", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"detail": "database unavailable"})
	}
	if err := s.blobs.Ping(ctx); err != nil {
		s.log.Warn("readiness: blob store", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"detail": "blob store unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ready", "ocr": s.opts.OCR})
}
