package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Topic is a system topic (UserID nil, managed by admins) or one user's own.
type Topic struct {
	ID          string
	UserID      *string
	Name        string
	Description string
	Color       string // "#rrggbb", or "" for the UI's default
}

// System tells whether the topic belongs to no user.
func (t Topic) System() bool { return t.UserID == nil }

const topicColumns = `id, user_id, name, description, color`

func scanTopic(row scanner) (Topic, error) {
	var t Topic
	var owner sql.NullString
	if err := row.Scan(&t.ID, &owner, &t.Name, &t.Description, &t.Color); err != nil {
		return Topic{}, notFound(err)
	}
	if owner.Valid {
		t.UserID = &owner.String
	}
	return t, nil
}

func (s *Store) queryTopics(ctx context.Context, where string, args ...any) ([]Topic, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+topicColumns+` FROM topics WHERE `+where+
		` ORDER BY user_id IS NOT NULL, name_key, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: topics: %w", err)
	}
	defer rows.Close()
	out := []Topic{}
	for rows.Next() {
		t, err := scanTopic(rows)
		if err != nil {
			return nil, fmt.Errorf("store: topics: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// VisibleTopics lists the system topics and the user's own: the candidates for their documents.
func (s *Store) VisibleTopics(ctx context.Context, userID string) ([]Topic, error) {
	return s.queryTopics(ctx, `user_id IS NULL OR user_id = $1`, userID)
}

// SystemTopics lists the topics without an owner.
func (s *Store) SystemTopics(ctx context.Context) ([]Topic, error) {
	return s.queryTopics(ctx, `user_id IS NULL`)
}

// TopicByID finds any topic; callers check who may see it.
func (s *Store) TopicByID(ctx context.Context, id string) (Topic, error) {
	t, err := scanTopic(s.db.QueryRowContext(ctx, `SELECT `+topicColumns+` FROM topics WHERE id = $1`, id))
	if err != nil {
		return Topic{}, fmt.Errorf("store: topic: %w", err)
	}
	return t, nil
}

// MaxTopicsPerOwner bounds the topics of one user, and the system topics, so a topic list
// (at most twice this) never needs paging.
const MaxTopicsPerOwner = 500

// topicRoom refuses a topic past MaxTopicsPerOwner in userID's namespace (nil = system).
// PostgreSQL serializes creates in one namespace with a transaction-scoped advisory lock;
// SQLite's IMMEDIATE transactions already do.
func (s *Store) topicRoom(ctx context.Context, tx *sql.Tx, userID *string) error {
	owner := ""
	if userID != nil {
		owner = *userID
	}
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('docuvault.topics:' || $1, 0))`, owner); err != nil {
			return err
		}
	}
	var n int
	var err error
	if userID == nil {
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM topics WHERE user_id IS NULL`).Scan(&n)
	} else {
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM topics WHERE user_id = $1`, owner).Scan(&n)
	}
	if err != nil {
		return err
	}
	if n >= MaxTopicsPerOwner {
		who := "a user"
		if userID == nil {
			who = "the system"
		}
		return &InvalidError{Reason: fmt.Sprintf("%s can have at most %d topics: delete one first", who, MaxTopicsPerOwner)}
	}
	return nil
}

// CreateTopic adds a topic to a namespace (userID nil = system); ErrConflict when the name
// is taken there, ignoring case in any script (see topicKey).
func (s *Store) CreateTopic(ctx context.Context, userID *string, name, description string) (Topic, error) {
	return s.AddTopic(ctx, Topic{UserID: userID, Name: name, Description: description})
}

// AddTopic creates t (its ID is assigned) in t.UserID's namespace, like CreateTopic.
func (s *Store) AddTopic(ctx context.Context, t Topic) (Topic, error) {
	t.ID, t.Name = newID(), strings.TrimSpace(t.Name)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.topicRoom(ctx, tx, t.UserID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO topics (id, user_id, name, name_key, description, color) VALUES ($1, $2, $3, $4, $5, $6)`,
			t.ID, t.UserID, t.Name, topicKey(t.Name), t.Description, t.Color)
		return err
	})
	if isUniqueViolation(err) {
		return Topic{}, fmt.Errorf("store: create topic %q: %w", t.Name, ErrConflict)
	}
	if err != nil {
		return Topic{}, fmt.Errorf("store: create topic: %w", err)
	}
	return t, nil
}

// TopicPatch changes a topic; nil fields stay.
type TopicPatch struct {
	Name        *string
	Description *string
	Color       *string
}

// UpdateTopic renames or re-describes a topic.
func (s *Store) UpdateTopic(ctx context.Context, id string, p TopicPatch) (Topic, error) {
	if p.Name != nil {
		name := strings.TrimSpace(*p.Name)
		res, err := s.db.ExecContext(ctx, `UPDATE topics SET name = $1, name_key = $2 WHERE id = $3`, name, topicKey(name), id)
		if isUniqueViolation(err) {
			return Topic{}, fmt.Errorf("store: update topic: %w", ErrConflict)
		}
		if err := affectedOne(res, err); err != nil {
			return Topic{}, fmt.Errorf("store: update topic: %w", err)
		}
	}
	if p.Description != nil {
		res, err := s.db.ExecContext(ctx, `UPDATE topics SET description = $1 WHERE id = $2`, *p.Description, id)
		if err := affectedOne(res, err); err != nil {
			return Topic{}, fmt.Errorf("store: update topic: %w", err)
		}
	}
	if p.Color != nil {
		res, err := s.db.ExecContext(ctx, `UPDATE topics SET color = $1 WHERE id = $2`, *p.Color, id)
		if err := affectedOne(res, err); err != nil {
			return Topic{}, fmt.Errorf("store: update topic: %w", err)
		}
	}
	return s.TopicByID(ctx, id)
}

// DeleteTopic removes a topic and (by cascade) its assignments.
func (s *Store) DeleteTopic(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM topics WHERE id = $1`, id)
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("store: delete topic: %w", err)
	}
	return nil
}
