package server

import "github.com/labstack/echo/v4"

// sessionless are the routes that never read or write a session: health, metrics and the
// API description are public, blob uploads carry their own signed token, and the UI's
// files are the same for everyone. Skipping the session there keeps the sessions table
// out of the path of requests that anyone may send in bulk.
var sessionless = map[string]bool{
	"/healthz": true, "/readyz": true, "/metrics": true, "/api/openapi.json": true,
	"/api/blobs/:token": true, "/api/*": true, "/*": true,
}

// onSessionRoutes runs mws (session load and save, caller, CSRF) on every route but the
// sessionless ones.
func onSessionRoutes(mws ...echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		with := next
		for i := len(mws) - 1; i >= 0; i-- {
			with = mws[i](with)
		}
		return func(c echo.Context) error {
			if sessionless[c.Path()] {
				return next(c)
			}
			return with(c)
		}
	}
}
