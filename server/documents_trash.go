package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// trashDocument moves the caller's document to the trash (idempotent); its bytes stay
// stored and charged until it is restored, deleted or purged after documents.trash_days.
func (s *Server) trashDocument(c echo.Context) error {
	d, err := s.store.TrashDocument(c.Request().Context(), caller(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toDocumentJSON(d))
}

// restoreDocument takes the caller's document out of the trash (idempotent).
func (s *Server) restoreDocument(c echo.Context) error {
	d, err := s.store.RestoreDocument(c.Request().Context(), caller(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toDocumentJSON(d))
}
