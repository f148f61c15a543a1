package server

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/docuvault/docuvault/store"
)

type bulkRequest struct {
	IDs      []string `json:"ids"`
	Action   string   `json:"action"`
	TopicIDs []string `json:"topic_ids"`
}

var bulkActions = map[string]bool{store.BulkAddTopics: true, store.BulkRemoveTopics: true, store.BulkTrash: true,
	store.BulkRestore: true, store.BulkDelete: true}

// bulkDocuments applies one action to many of the caller's documents, all or nothing.
func (s *Server) bulkDocuments(c echo.Context) error {
	var req bulkRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if !bulkActions[req.Action] {
		return fail(http.StatusBadRequest, "action must be add_topics, remove_topics, trash, restore or delete")
	}
	if len(req.IDs) == 0 || len(req.IDs) > store.MaxBulkIDs {
		return fail(http.StatusBadRequest, "ids must list 1 to "+strconv.Itoa(store.MaxBulkIDs)+" documents")
	}
	topics := req.Action == store.BulkAddTopics || req.Action == store.BulkRemoveTopics
	switch {
	case topics && (len(req.TopicIDs) == 0 || len(req.TopicIDs) > maxTopicIDs):
		return fail(http.StatusBadRequest, "topic_ids must list 1 to 100 topics")
	case !topics && req.TopicIDs != nil:
		return fail(http.StatusBadRequest, "topic_ids go only with add_topics or remove_topics")
	}
	for _, id := range req.IDs {
		if !validID(id) {
			return fail(http.StatusNotFound, "not found") // no document has it
		}
	}
	for _, id := range req.TopicIDs {
		if !validID(id) {
			return fail(http.StatusUnprocessableEntity, "topic_ids must be system topics or your own")
		}
	}
	ctx := c.Request().Context()
	n, keys, err := s.store.BulkDocuments(ctx, caller(c).ID, req.Action, req.IDs, req.TopicIDs)
	if err != nil {
		return err
	}
	s.deleteObjectsNow(ctx, keys...)
	return c.JSON(http.StatusOK, map[string]any{"action": req.Action, "count": n})
}
