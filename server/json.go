package server

import (
	"time"

	"github.com/docuvault/docuvault/store"
)

type userJSON struct {
	ID                 string    `json:"id"`
	Username           string    `json:"username"`
	Role               string    `json:"role"`
	IsActive           bool      `json:"is_active"`
	PasswordMustChange bool      `json:"password_must_change"`
	TOTPEnabled        bool      `json:"totp_enabled"`
	AIProvider         *string   `json:"ai_provider"`
	AIModel            *string   `json:"ai_model"`
	CreatedAt          time.Time `json:"created_at"`
}

func toUserJSON(u store.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, Role: u.Role, IsActive: u.IsActive,
		PasswordMustChange: u.PasswordMustChange, TOTPEnabled: u.TOTPEnabled, AIProvider: u.AIProvider,
		AIModel: u.AIModel, CreatedAt: u.CreatedAt}
}

type topicRefJSON struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	System     bool    `json:"system"`
	Confidence float64 `json:"confidence"`
	Source     string  `json:"source"` // "auto" or "manual"
}

type suggestedTopicJSON struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Confidence float64 `json:"confidence"`
}

// topicSource names a store source in the API.
func topicSource(s string) string {
	if s == store.SourceManual {
		return "manual"
	}
	return "auto"
}

type documentJSON struct {
	ID           string               `json:"id"`
	Filename     string               `json:"filename"`
	ContentType  string               `json:"content_type"`
	SizeBytes    int64                `json:"size_bytes"`
	Status       string               `json:"status"`
	Topics       []topicRefJSON       `json:"topics"`
	NeedsTopic   bool                 `json:"needs_topic"`
	Suggested    []suggestedTopicJSON `json:"suggested_topics"`
	Error        *string              `json:"error"`
	CreatedAt    time.Time            `json:"created_at"`
	UploadedAt   *time.Time           `json:"uploaded_at"`
	ClassifiedAt *time.Time           `json:"classified_at"`
	HasThumbnail bool                 `json:"has_thumbnail"`
	TrashedAt    *time.Time           `json:"trashed_at"`
}

func toDocumentJSON(d store.Document) documentJSON {
	topics := make([]topicRefJSON, len(d.Topics))
	for i, t := range d.Topics {
		topics[i] = topicRefJSON{ID: t.ID, Name: t.Name, System: t.System, Confidence: t.Confidence, Source: topicSource(t.Source)}
	}
	suggested := make([]suggestedTopicJSON, len(d.Suggested))
	for i, t := range d.Suggested {
		suggested[i] = suggestedTopicJSON{ID: t.ID, Name: t.Name, Confidence: t.Confidence}
	}
	return documentJSON{ID: d.ID, Filename: d.Filename, ContentType: d.ContentType, SizeBytes: d.SizeBytes,
		Status: d.Status, Topics: topics, NeedsTopic: d.NeedsTopic(), Suggested: suggested, Error: d.Error, CreatedAt: d.CreatedAt, UploadedAt: d.UploadedAt,
		ClassifiedAt: d.ClassifiedAt, HasThumbnail: d.HasThumbnail, TrashedAt: d.TrashedAt}
}

type topicJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	System      bool   `json:"system"`
	Color       string `json:"color"`
	// DocumentCount is how many of the caller's documents (not trashed) have the topic;
	// only in the caller's own list.
	DocumentCount *int64 `json:"document_count,omitempty"`
}

func toTopicJSON(t store.Topic) topicJSON {
	return topicJSON{ID: t.ID, Name: t.Name, Description: t.Description, System: t.System(), Color: t.Color}
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
