package server

import (
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// Bounds on what one request may carry, so every list and string stays small enough for
// both databases (SQLite allows 32,766 bound parameters per statement).
const (
	maxTopicIDs         = 100  // topic_ids in one PATCH of a document
	maxTopicName        = 100  // bytes, after trimming
	maxTopicDescription = 2000 // bytes
	maxTokenName        = 100  // bytes, after trimming
	maxAIModel          = 200  // bytes
	maxLoginField       = 1024 // bytes of a username, password or code at login
	maxQueryText        = 500  // bytes of q

)

// badText ends the 400 detail for text that no database could store.
const badText = " must be valid UTF-8 without NUL bytes"

// validText tells whether s can be stored as text by both databases: PostgreSQL refuses NUL
// bytes and invalid UTF-8 (SQLSTATE 22021) where SQLite would keep them.
func validText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// validID tells whether s has the shape of the ids the store makes (canonical UUIDs): any
// other value cannot name a row, so it is a 404 without asking the database.
func validID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// checkInput refuses path parameters and query strings that no database could store:
// 404 for an id that cannot exist, 400 for other text with NUL bytes or invalid UTF-8.
// It runs on every route group, after authentication, before any handler reads them.
func (s *Server) checkInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		for i, name := range c.ParamNames() {
			v := c.ParamValues()[i]
			if name == "id" && !validID(v) {
				return fail(http.StatusNotFound, "not found")
			}
			if !validText(v) {
				return fail(http.StatusBadRequest, name+badText)
			}
		}
		for k, vs := range c.QueryParams() {
			if !validText(k) {
				return fail(http.StatusBadRequest, "query parameter names"+badText)
			}
			for _, v := range vs {
				if !validText(v) {
					return fail(http.StatusBadRequest, k+badText)
				}
			}
		}
		return next(c)
	}
}

// invalidField names the first string in v (a decoded request) holding a NUL byte or
// invalid UTF-8, by its JSON path, or returns "".
func invalidField(v any) string {
	return invalidIn(reflect.ValueOf(v), "")
}

func invalidIn(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ""
		}
		return invalidIn(v.Elem(), path)
	case reflect.String:
		if !validText(v.String()) {
			return path
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if p := invalidIn(v.Index(i), path); p != "" {
				return p
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if p := invalidIn(it.Key(), path); p != "" {
				return p
			}
			if p := invalidIn(it.Value(), path); p != "" {
				return p
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			if p := invalidIn(v.Field(i), name); p != "" {
				return p
			}
		}
	}
	return ""
}
