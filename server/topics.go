package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/docuvault/docuvault/store"
)

type topicRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Color       *string `json:"color"`
}

// validate checks a create (name required) or a patch.
func (r topicRequest) validate(create bool) error {
	if r.Name == nil && create {
		return fail(http.StatusUnprocessableEntity, "name is required")
	}
	if r.Name != nil {
		n := strings.TrimSpace(*r.Name)
		if n == "" || len(n) > maxTopicName || strings.ContainsFunc(n, isControl) {
			return fail(http.StatusUnprocessableEntity, "name must be 1 to 100 characters without control characters")
		}
	}
	if r.Description != nil && len(*r.Description) > maxTopicDescription {
		return fail(http.StatusUnprocessableEntity, "description must be at most 2000 characters")
	}
	if r.Color != nil && *r.Color != "" && !validColor(*r.Color) {
		return fail(http.StatusUnprocessableEntity, `color must be "#rrggbb" or empty`)
	}
	return nil
}

func (s *Server) listTopics(c echo.Context) error {
	ctx := c.Request().Context()
	list, err := s.store.VisibleTopics(ctx, caller(c).ID)
	if err != nil {
		return err
	}
	counts, err := s.store.TopicDocumentCounts(ctx, caller(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, mapSlice(list, func(t store.Topic) topicJSON {
		j, n := toTopicJSON(t), counts[t.ID]
		j.DocumentCount = &n
		return j
	}))
}

// createTopicIn adds a topic to the namespace of owner (nil = system).
func (s *Server) createTopicIn(c echo.Context, owner *string) error {
	var req topicRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := req.validate(true); err != nil {
		return err
	}
	t := store.Topic{UserID: owner, Name: *req.Name}
	if req.Description != nil {
		t.Description = *req.Description
	}
	if req.Color != nil {
		t.Color = strings.ToLower(*req.Color)
	}
	created, err := s.store.AddTopic(c.Request().Context(), t)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toTopicJSON(created))
}

func (s *Server) createTopic(c echo.Context) error {
	id := caller(c).ID
	return s.createTopicIn(c, &id)
}

// ownedTopic finds a topic the caller may change: system topics are 403 for users, another
// user's topics 404; for admins (system == true) only system topics exist.
func (s *Server) ownedTopic(c echo.Context, system bool) (store.Topic, error) {
	t, err := s.store.TopicByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return t, err
	}
	if system {
		if !t.System() {
			return t, store.ErrNotFound
		}
		return t, nil
	}
	if t.System() {
		return t, fail(http.StatusForbidden, "system topics are managed by admins")
	}
	if *t.UserID != caller(c).ID {
		return t, store.ErrNotFound
	}
	return t, nil
}

func (s *Server) patchTopicIn(c echo.Context, system bool) error {
	var req topicRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := req.validate(false); err != nil {
		return err
	}
	t, err := s.ownedTopic(c, system)
	if err != nil {
		return err
	}
	t, err = s.store.UpdateTopic(c.Request().Context(), t.ID, store.TopicPatch{Name: req.Name, Description: req.Description, Color: lowerPtr(req.Color)})
	if err != nil {
		return err
	}
	if system {
		s.audit(c, "admin.topic.update", t.Name)
	}
	return c.JSON(http.StatusOK, toTopicJSON(t))
}

func (s *Server) deleteTopicIn(c echo.Context, system bool) error {
	t, err := s.ownedTopic(c, system)
	if err != nil {
		return err
	}
	if err := s.store.DeleteTopic(c.Request().Context(), t.ID); err != nil {
		return err
	}
	if system {
		s.audit(c, "admin.topic.delete", t.Name)
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) patchTopic(c echo.Context) error  { return s.patchTopicIn(c, false) }
func (s *Server) deleteTopic(c echo.Context) error { return s.deleteTopicIn(c, false) }

func (s *Server) adminListTopics(c echo.Context) error {
	list, err := s.store.SystemTopics(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, mapSlice(list, toTopicJSON))
}

func (s *Server) adminCreateTopic(c echo.Context) error {
	if err := s.createTopicIn(c, nil); err != nil {
		return err
	}
	s.audit(c, "admin.topic.create", "")
	return nil
}

func (s *Server) adminPatchTopic(c echo.Context) error  { return s.patchTopicIn(c, true) }
func (s *Server) adminDeleteTopic(c echo.Context) error { return s.deleteTopicIn(c, true) }

// validColor accepts a colour as "#rrggbb".
func validColor(c string) bool {
	if len(c) != 7 || c[0] != '#' {
		return false
	}
	for _, r := range c[1:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

func lowerPtr(s *string) *string {
	if s == nil {
		return nil
	}
	l := strings.ToLower(*s)
	return &l
}
