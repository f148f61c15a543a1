package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/docuvault/docuvault/store"
)

// listOrder reads sort, order and trashed into f; anything else than the named values is 400.
// A search (q) has its own order: sort and order are refused with it, but for the default.
func listOrder(c echo.Context, f *store.DocumentFilter) error {
	if v := c.QueryParam("sort"); v != "" {
		if !store.ValidSort(v) {
			return fail(http.StatusBadRequest, "sort must be created, name or size")
		}
		f.Sort = v
	}
	switch c.QueryParam("order") {
	case "", "desc":
	case "asc":
		f.Asc = true
	default:
		return fail(http.StatusBadRequest, "order must be asc or desc")
	}
	switch c.QueryParam("trashed") {
	case "", "false":
	case "true":
		f.Trashed = true
	default:
		return fail(http.StatusBadRequest, "trashed must be true or false")
	}
	if strings.TrimSpace(f.Query) != "" && ((f.Sort != "" && f.Sort != store.SortCreated) || f.Asc) {
		return fail(http.StatusBadRequest, "a search (q) lists the best matches first: sort and order do not apply")
	}
	return nil
}

// listTotal is how many documents the whole list holds, read from the counters kept beside
// the quota; nil when filtered by status, topic or a search, which only a count of the rows
// could tell.
func (s *Server) listTotal(c echo.Context, f store.DocumentFilter) (*int64, error) {
	if f.Status != "" || f.TopicID != "" || f.Query != "" {
		return nil, nil
	}
	q, err := s.store.QuotaOf(c.Request().Context(), caller(c).ID)
	if err != nil {
		return nil, err
	}
	n := q.DocumentCount
	if f.Trashed {
		n = q.TrashCount
	}
	return &n, nil
}
