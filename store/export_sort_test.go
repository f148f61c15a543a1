package store

import "strconv"

// SortedListSQL is the statement ListDocuments runs for a plain list in one order (with a
// cursor: a page after the first), with its arguments but the cursor's, for plan tests.
func SortedListSQL(sort string, asc bool, after *Cursor, userID string) (string, []any) {
	args := []any{userID}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	p := sortedList(sort, asc)
	where := `d.user_id = $1 AND d.trashed = ` + arg(false)
	if after != nil {
		cond, err := p.after(after, arg)
		if err != nil {
			panic(err)
		}
		where += ` AND ` + cond
	}
	return `SELECT ` + documentColumns + ` FROM ` + p.from + ` WHERE ` + where + ` ORDER BY ` + p.order + ` LIMIT ` + arg(51), args
}

// TopicCountsSQL is the statement of TopicDocumentCounts (arguments: user id, false).
func TopicCountsSQL(s *Store) string { return s.topicCountsSQL() }
