package server

import (
	"errors"
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/docuvault/docuvault/assets"
)

// ui serves the embedded web UI: index.html at "/", and its scripts, styles and icons.
func (s *Server) ui() echo.HandlerFunc {
	static := assets.Static()
	files := http.FileServer(http.FS(static))
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		if strings.HasPrefix(p, "/api/") {
			return echo.ErrNotFound
		}
		if p != "/" {
			if _, err := fs.Stat(static, strings.TrimPrefix(p, "/")); errors.Is(err, fs.ErrNotExist) {
				return echo.ErrNotFound
			}
		}
		c.Response().Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// shareWithoutWorker answers a share-target POST that the app's service worker did not take
// (not installed yet, or cleared): the browser sent it without the CSRF token, so nothing in
// it is kept; the documents page opens instead.
func (s *Server) shareWithoutWorker(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/#/documents")
}

// listProviders tells the UI which classification providers a user may pick.
func (s *Server) listProviders(c echo.Context) error {
	def := s.opts.DefaultProvider
	if def == "" {
		def = "local"
	}
	return c.JSON(http.StatusOK, map[string]any{"providers": s.opts.Providers, "default": def})
}
