package server

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// operation describes one route for the OpenAPI document.
type operation struct {
	method, path, summary string
	auth                  string // "", "user" (any signed-in caller), "member" (role user), "admin"
	body                  string // request schema (a component name), or ""
	status                int
	result                string // response schema, or ""
	errors                []int
}

// operations is the API as this binary serves it; TestOpenAPIMatchesRouter keeps it in step
// with the router.
var operations = []operation{
	{"GET", "/healthz", "The process is up", "", "", 200, "", nil},
	{"GET", "/readyz", "The database and the blob store answer; ocr.available tells whether scans get their text recognised (tesseract found), ocr.languages which languages", "", "", 200, "", []int{503}},
	{"GET", "/metrics", "Prometheus metrics (bearer token when configured)", "", "", 200, "", []int{401}},
	{"GET", "/api/openapi.json", "This document", "", "", 200, "", nil},
	{"POST", "/share", "Web Share Target of the installed app. The app's service worker answers it in the browser (the shared files wait there until the signed-in page uploads them through upload-url, PUT and confirm); a request that reaches the server is answered 303 to the documents page and nothing is kept", "", "", 303, "", nil},
	{"PUT", "/api/blobs/{token}", "Upload the bytes of a pending document to the local store (signed URL from upload-url): once, exactly the declared size. 400 short body; 409 URL already used; 410 document no longer pending (confirmed, deleted, discarded, expired); 429 too many uploads in progress for the account (Retry-After)", "", "", 200, "", []int{400, 403, 409, 410, 413, 429, 503}},
	{"GET", "/api/auth/csrf", "The signed-in session's CSRF token (anonymous callers get one that is not stored; login returns the session's)", "", "", 200, "CSRFToken", nil},
	{"POST", "/api/auth/login", "Sign in; renews the session. Attempts are counted before the password is checked; 429 (with Retry-After) when throttled; 415 unless the body is application/json (no login from cross-site forms)", "", "Login", 200, "LoginResult", []int{400, 401, 415, 429}},
	{"POST", "/api/auth/logout", "Sign out. After a single sign-on login with a provider that has an end-session endpoint: 200 with {\"end_session_url\"} for the browser to visit; else 204", "user", "", 204, "", []int{200, 401}},
	{"GET", "/api/auth/config", "How people sign in here: {\"password_login\": bool, \"oidc\": null or {\"label\", \"login_url\"}} (the login page's \"Sign in with …\" button)", "", "", 200, "", nil},
	{"GET", "/api/auth/oidc/login", "Single sign-on: 302 to the identity provider (authorization code with PKCE, state and nonce); 404 when not configured; 503 when the provider does not answer", "", "", 302, "", []int{404, 503}},
	{"GET", "/api/auth/oidc/callback", "Single sign-on: the provider's redirect back (code, state); 302 to / with a session. 400 state missing, expired or not matching; 401 code or ID token refused; 403 not in allowed_groups, no linked account, deactivated; 409 the username is taken by an unlinked account", "", "", 302, "", []int{400, 401, 403, 404, 409, 503}},
	{"GET", "/api/auth/me", "The signed-in user", "user", "", 200, "User", []int{401}},
	{"POST", "/api/auth/me/password", "Change the password; other sessions end and API tokens are revoked; 422 when too short or equal to the current one", "user", "PasswordChange", 204, "", []int{401, 403, 422, 429}},
	{"GET", "/api/auth/me/quota", "Storage used and allowed", "user", "", 200, "Quota", []int{401, 403}},
	{"GET", "/api/auth/me/settings", "Classification provider and model", "user", "", 200, "AISettings", []int{401, 403}},
	{"PUT", "/api/auth/me/settings", "Choose the classification provider and model (null = server default)", "user", "AISettings", 200, "AISettings", []int{400, 401, 403, 422}},
	{"GET", "/api/providers", "Classification providers enabled on this server", "user", "", 200, "Providers", []int{401, 403}},
	{"POST", "/api/auth/me/totp/setup", "Start two-factor setup: secret, otpauth URL, QR code", "user", "", 200, "TOTPSetup", []int{401, 403, 409}},
	{"POST", "/api/auth/me/totp/enable", "Turn two-factor on with a code; returns backup codes", "user", "Code", 200, "BackupCodes", []int{401, 403, 409, 422}},
	{"POST", "/api/auth/me/totp/disable", "Turn two-factor off", "user", "Password", 204, "", []int{401, 403, 429}},
	{"POST", "/api/auth/me/backup-codes", "Replace the backup codes", "user", "Password", 200, "BackupCodes", []int{401, 403, 409, 429}},
	{"GET", "/api/auth/me/tokens", "API tokens (never their secrets)", "user", "", 200, "TokenList", []int{401, 403}},
	{"POST", "/api/auth/me/tokens", "Create an API token; the secret is shown once", "user", "NewToken", 201, "CreatedToken", []int{400, 401, 403, 422}},
	{"DELETE", "/api/auth/me/tokens/{id}", "Revoke an API token", "user", "", 204, "", []int{401, 403, 404}},
	{"GET", "/api/auth/me/mail-accounts", "Your IMAP accounts for mail intake, with each one's last poll and last error (never the password)", "member", "", 200, "MailAccountList", []int{401, 403}},
	{"POST", "/api/auth/me/mail-accounts", "Add an IMAP account: its attachments become your documents at each poll (intake.mail_interval). The password is write-only and stored encrypted; at most 10 accounts", "member", "MailAccountCreate", 201, "MailAccount", []int{400, 401, 403, 413, 422}},
	{"GET", "/api/auth/me/mail-accounts/{id}", "One of your IMAP accounts", "member", "", 200, "MailAccount", []int{401, 403, 404}},
	{"PATCH", "/api/auth/me/mail-accounts/{id}", "Change an IMAP account; only the fields given change (a new password replaces the stored one). 422 when host, port, tls_mode or username change without the password: a stored password is only sent where it was typed for", "member", "MailAccountPatch", 200, "MailAccount", []int{400, 401, 403, 404, 413, 422}},
	{"DELETE", "/api/auth/me/mail-accounts/{id}", "Remove an IMAP account and its import records (the documents stay)", "member", "", 204, "", []int{401, 403, 404}},
	{"POST", "/api/auth/me/mail-accounts/{id}/test", "Log in and list the folders without importing anything; a failed login is ok false with the reason", "member", "", 200, "MailAccountTest", []int{401, 403, 404}},
	{"POST", "/api/documents/upload-url", "Step 1 of an upload: a pending document and a presigned PUT bound to size_bytes (413 also when the pending uploads would pass the limit plus quota.pending_allowance). 409 {detail, existing_id} when the declared sha256 is that of one of your documents (documents.duplicates = \"reject\")", "member", "UploadRequest", 201, "UploadTicket", []int{400, 401, 403, 409, 413, 415, 503}},
	{"POST", "/api/documents/{id}/confirm", "Step 3: charge the quota with the stored size and queue classification. 409 {detail, existing_id} when you already have a document with the same bytes (documents.duplicates = \"reject\"): the upload is discarded and nothing is charged. Checked here for local uploads of up to 64 MiB; on S3 and for larger local uploads the worker removes the copy once it has hashed it", "member", "", 200, "Document", []int{401, 403, 404, 409, 413, 422, 503}},
	{"POST", "/api/documents", "One-shot multipart upload (field \"file\"); 429 when too many uploads are in progress for the account (Retry-After); 409 {detail, existing_id} for a duplicate of one of your documents", "member", "Multipart", 201, "Document", []int{400, 401, 403, 409, 413, 415, 429, 503}},
	{"GET", "/api/documents/zip", "Bulk download: the chosen documents (ids=a,b,… or ids repeated; at most 500) as one streamed application/zip, each under its filename made unique; any id not one of your finished documents is a 404 before a byte is sent", "member", "", 200, "", []int{400, 401, 403, 404, 503}},
	{"GET", "/api/export", "Download all my documents: a streamed application/zip of every original under its filename (made unique) and manifest.json (ids, filenames, content types, sizes, SHA-256, dates, topics with names, descriptions and colours; text=true adds the extracted text)", "member", "", 200, "", []int{400, 401, 403, 503}},
	{"GET", "/api/documents", "Your documents, newest first (or by sort and order; best match with q); keyset pagination; trashed ones only with trashed=true", "member", "", 200, "DocumentPage", []int{400, 401, 403}},
	{"POST", "/api/documents/bulk", "One action on 1 to 500 of your documents, all or nothing in one transaction: add_topics and remove_topics (with topic_ids, 1 to 100), trash, restore, delete (for good). 404 when any id is not one of your documents, 422 when a topic is neither a system topic nor yours, 409 when trash names an unfinished upload; then nothing changed", "member", "BulkRequest", 200, "BulkResult", []int{400, 401, 403, 404, 409, 422}},
	{"GET", "/api/documents/{id}", "One document", "member", "", 200, "Document", []int{401, 403, 404}},
	{"GET", "/api/documents/{id}/download", "Download: 302 to a presigned URL (S3) or the bytes (local)", "member", "", 200, "", []int{302, 401, 403, 404, 409, 503}},
	{"GET", "/api/documents/{id}/preview", "The bytes inline for types a browser shows safely (PDF, PNG, JPEG, GIF, WebP, AVIF, BMP; text as text/plain; charset=utf-8) with Content-Security-Policy: sandbox and X-Content-Type-Options: nosniff; S3: 302 to a presigned GET with an inline disposition and that type. 415 for HTML, SVG, Office files and unknown types (download them); 409 while the upload is unfinished", "member", "", 200, "", []int{302, 401, 403, 404, 409, 415, 503}},
	{"GET", "/api/documents/{id}/thumbnail", "The thumbnail (image/jpeg, 400 px wide) the worker made; 404 until it exists (see has_thumbnail). ETag; If-None-Match answers 304", "member", "", 200, "", []int{304, 401, 403, 404, 503}},
	{"GET", "/api/documents/{id}/text", "The text extracted or recognised (OCR) from the document, as text/plain; charset=utf-8 (empty until classified); 409 while the upload is unfinished", "member", "", 200, "", []int{401, 403, 404, 409}},
	{"PATCH", "/api/documents/{id}", "Rename and/or set topics", "member", "DocumentPatch", 200, "Document", []int{400, 401, 403, 404, 422}},
	{"DELETE", "/api/documents/{id}", "Delete for good, from the list or the trash; the space is given back at once", "member", "", 204, "", []int{401, 403, 404}},
	{"POST", "/api/documents/{id}/trash", "Move to the trash (idempotent): hidden from the list and search, still charged to the quota (trash_bytes), deleted for good after documents.trash_days; download, rename and topics still work. 409 while the upload is unfinished", "member", "", 200, "Document", []int{401, 403, 404, 409}},
	{"POST", "/api/documents/{id}/restore", "Take out of the trash (idempotent); 404 once purged or deleted", "member", "", 200, "Document", []int{401, 403, 404}},
	{"POST", "/api/documents/{id}/classify", "Queue the document for classification again", "member", "", 202, "Document", []int{401, 403, 404, 409}},
	{"GET", "/api/topics", "System topics and your own, each with the number of your documents (not trashed) that have it", "member", "", 200, "TopicList", []int{401, 403}},
	{"POST", "/api/topics", "Create one of your topics", "member", "TopicCreate", 201, "Topic", []int{400, 401, 403, 409, 422}},
	{"PATCH", "/api/topics/{id}", "Change one of your topics", "member", "TopicPatch", 200, "Topic", []int{400, 401, 403, 404, 409, 422}},
	{"DELETE", "/api/topics/{id}", "Delete one of your topics and its assignments", "member", "", 204, "", []int{401, 403, 404}},
	{"GET", "/api/admin/users", "Users with their usage (never document names)", "admin", "", 200, "AdminUserList", []int{401, 403}},
	{"POST", "/api/admin/users", "Create a user with a temporary password", "admin", "AdminUserCreate", 201, "AdminUserCreated", []int{400, 401, 403, 409, 422}},
	{"PATCH", "/api/admin/users/{id}", "Activate or deactivate, change role or quota", "admin", "AdminUserPatch", 200, "User", []int{400, 401, 403, 404, 409, 422}},
	{"POST", "/api/admin/users/{id}/reset-password", "Set a temporary password (optionally turning two-factor off); the user's sessions end and API tokens are revoked", "admin", "ResetPassword", 200, "TemporaryPassword", []int{400, 401, 403, 404}},
	{"DELETE", "/api/admin/users/{id}", "Delete a user and their documents", "admin", "", 204, "", []int{401, 403, 404, 409}},
	{"GET", "/api/admin/audit", "Security events and admin actions, newest first", "admin", "", 200, "AuditPage", []int{400, 401, 403}},
	{"GET", "/api/admin/topics", "System topics", "admin", "", 200, "TopicList", []int{401, 403}},
	{"POST", "/api/admin/topics", "Create a system topic", "admin", "TopicCreate", 201, "Topic", []int{400, 401, 403, 409, 422}},
	{"PATCH", "/api/admin/topics/{id}", "Change a system topic", "admin", "TopicPatch", 200, "Topic", []int{400, 401, 403, 404, 409, 422}},
	{"DELETE", "/api/admin/topics/{id}", "Delete a system topic", "admin", "", 204, "", []int{401, 403, 404}},
}

var (
	mailTLSMode = map[string]any{"enum": []string{"tls", "starttls", "none"},
		"description": "none only for a loopback host, unless intake.mail_allow_plaintext"}
	mailAfter = map[string]any{"type": "string", "pattern": "^(mark_read|delete|move:.+)$",
		"description": "what happens to a message once all its attachments are documents: mark_read, delete, or move:<folder>"}
	mailBody         = map[string]any{"enum": []string{"none", "text"}, "description": "text: the plain-text body becomes a <subject>.txt document too"}
	mailAccountInput = map[string]any{"host": str, "port": map[string]any{"type": "integer", "minimum": 1, "maximum": 65535, "description": "default 993 with tls, 143 otherwise"},
		"tls_mode": mailTLSMode, "username": str, "password": map[string]any{"type": "string", "writeOnly": true},
		"folder": map[string]any{"type": "string", "description": "default INBOX"}, "after": mailAfter,
		"from_filter":    map[string]any{"type": "string", "description": "only messages whose From contains this"},
		"subject_filter": map[string]any{"type": "string", "description": "only messages whose Subject contains this"},
		"import_body":    mailBody, "enabled": boolean}
)

func obj(required []string, props map[string]any) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

var (
	str      = map[string]any{"type": "string"}
	strNull  = map[string]any{"type": []string{"string", "null"}}
	integer  = map[string]any{"type": "integer"}
	boolean  = map[string]any{"type": "boolean"}
	dateTime = map[string]any{"type": "string", "format": "date-time"}
	dtNull   = map[string]any{"type": []string{"string", "null"}, "format": "date-time"}
	strList  = map[string]any{"type": "array", "items": str}
)

func listOf(name string) map[string]any { return map[string]any{"type": "array", "items": ref(name)} }

// schemas are the request and response bodies.
var schemas = map[string]any{
	"Error": obj([]string{"detail"}, map[string]any{"detail": map[string]any{"description": "a message, or an object (413: used_bytes, limit_bytes, rejected_bytes, and pending_bytes when unconfirmed uploads hold part of the room)"},
		"existing_id": map[string]any{"type": "string", "description": "409 for a duplicate upload: your document with the same bytes"}}),
	"User": obj(nil, map[string]any{"id": str, "username": str, "role": map[string]any{"enum": []string{"user", "admin"}}, "is_active": boolean,
		"password_must_change": boolean, "totp_enabled": boolean, "ai_provider": strNull, "ai_model": strNull, "created_at": dateTime}),
	"CSRFToken":      obj([]string{"csrf_token"}, map[string]any{"csrf_token": str}),
	"Login":          obj([]string{"username", "password"}, map[string]any{"username": str, "password": str, "otp": str}),
	"LoginResult":    obj(nil, map[string]any{"user": ref("User"), "csrf_token": str}),
	"PasswordChange": obj([]string{"current_password", "new_password"}, map[string]any{"current_password": str, "new_password": map[string]any{"type": "string", "minLength": 12}}),
	"Quota": obj(nil, map[string]any{"used_bytes": integer, "limit_bytes": integer,
		"trash_bytes": map[string]any{"type": "integer", "description": "the part of used_bytes held by trashed documents"}}),
	"AISettings":   obj(nil, map[string]any{"ai_provider": strNull, "ai_model": strNull}),
	"Providers":    obj(nil, map[string]any{"providers": strList, "default": str}),
	"TOTPSetup":    obj(nil, map[string]any{"secret": str, "otpauth_url": str, "qr_png": str}),
	"Code":         obj([]string{"code"}, map[string]any{"code": str}),
	"Password":     obj([]string{"password"}, map[string]any{"password": str}),
	"BackupCodes":  obj(nil, map[string]any{"backup_codes": strList}),
	"Token":        obj(nil, map[string]any{"id": str, "name": str, "created_at": dateTime, "last_used_at": dtNull, "expires_at": dtNull}),
	"TokenList":    listOf("Token"),
	"NewToken":     obj([]string{"name"}, map[string]any{"name": str, "expires_in_days": integer}),
	"CreatedToken": obj(nil, map[string]any{"id": str, "name": str, "token": str, "expires_at": dtNull}),
	"MailAccount": obj(nil, map[string]any{"id": str, "host": str, "port": integer, "tls_mode": mailTLSMode, "username": str,
		"folder": str, "after": mailAfter, "from_filter": str, "subject_filter": str, "import_body": mailBody, "enabled": boolean,
		"last_polled_at": dtNull, "last_error": str, "last_error_at": dtNull, "created_at": dateTime, "updated_at": dateTime}),
	"MailAccountList":   listOf("MailAccount"),
	"MailAccountCreate": obj([]string{"host", "username", "password"}, mailAccountInput),
	"MailAccountPatch":  obj(nil, mailAccountInput),
	"MailAccountTest":   obj([]string{"ok", "folders", "error"}, map[string]any{"ok": boolean, "folders": map[string]any{"type": "array", "items": str}, "error": str}),
	"UploadRequest": obj([]string{"filename", "size_bytes"}, map[string]any{"filename": str, "content_type": str, "size_bytes": integer,
		"sha256": map[string]any{"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "optional SHA-256 of the file: a duplicate of one of your documents is refused (409) before any byte is sent"}}),
	"UploadTicket": obj(nil, map[string]any{"document_id": str, "upload_url": str, "method": str,
		"headers": map[string]any{"type": "object", "additionalProperties": str},
		"fields": map[string]any{"type": "object", "additionalProperties": str,
			"description": "with method POST (S3): multipart/form-data fields to send first, then the bytes in the field \"file\""},
		"expires_at": dateTime}),
	"Multipart": obj([]string{"file"}, map[string]any{"file": map[string]any{"type": "string", "format": "binary"}}),
	"TopicRef": obj(nil, map[string]any{"id": str, "name": str, "system": boolean,
		"confidence": map[string]any{"type": "number", "minimum": 0, "maximum": 1, "description": "how sure the classifier was; 1 for a manual assignment"},
		"source":     map[string]any{"enum": []string{"auto", "manual"}, "description": "auto: the classifier; manual: the user (PATCH topic_ids), never replaced by re-classification"}}),
	"SuggestedTopic": obj(nil, map[string]any{"id": str, "name": str, "confidence": map[string]any{"type": "number", "minimum": 0, "maximum": 1}}),
	"Document": obj(nil, map[string]any{"id": str, "filename": str, "content_type": str, "size_bytes": integer,
		"status":           map[string]any{"enum": []string{"pending", "uploaded", "classified", "classification_failed"}},
		"topics":           map[string]any{"type": "array", "items": ref("TopicRef"), "description": "best first: manual topics, then by confidence"},
		"needs_topic":      map[string]any{"type": "boolean", "description": "classified, but no topic cleared classify.min_confidence: the user picks one (suggested_topics); setting topics by PATCH confirms them and teaches the user's model"},
		"suggested_topics": map[string]any{"type": "array", "items": ref("SuggestedTopic"), "description": "while needs_topic: the likeliest topics, best first"},
		"error":            strNull, "created_at": dateTime, "uploaded_at": dtNull, "classified_at": dtNull, "has_thumbnail": boolean,
		"trashed_at": map[string]any{"type": []string{"string", "null"}, "format": "date-time", "description": "in the trash since; null when not trashed"},
		"snippet": map[string]any{"type": "string", "description": "search results (q) only: an HTML fragment of the document's text " +
			"(its first 16,384 characters) around the first match. The text is HTML-escaped (& < > \" ') before the matching words " +
			"are wrapped in <mark>…</mark>, so it holds no other markup and may be inserted as HTML; \"…\" marks text cut off. " +
			"The last word of q may also match the start of a word (\"lisb\" finds \"Lisbon\") where that costs a bounded " +
			"merge: on SQLite 2 and 3 characters always, 4 or more while the words so starting occur at most 2,000 times in the " +
			"index; on PostgreSQL 4 or more characters while its statistics put the words so starting in at most 2,000 documents. " +
			"Otherwise it matches whole words."}}),
	"DocumentPage": obj(nil, map[string]any{"items": listOf("Document"), "next_cursor": strNull,
		"total": map[string]any{"type": []string{"integer", "null"}, "description": "documents in the whole list (the trash with trashed=true); null when filtered by status, topic or q"}}),
	"BulkRequest": obj([]string{"ids", "action"}, map[string]any{"ids": map[string]any{"type": "array", "items": str, "minItems": 1, "maxItems": 500},
		"action":    map[string]any{"enum": []string{"add_topics", "remove_topics", "trash", "restore", "delete"}},
		"topic_ids": map[string]any{"type": "array", "items": str, "maxItems": 100}}),
	"BulkResult":    obj(nil, map[string]any{"action": str, "count": map[string]any{"type": "integer", "description": "distinct documents the action applied to"}}),
	"DocumentPatch": obj(nil, map[string]any{"filename": str, "topic_ids": strList}),
	"Topic": obj(nil, map[string]any{"id": str, "name": str, "description": str, "system": boolean, "color": str,
		"document_count": map[string]any{"type": "integer", "description": "GET /api/topics only: your documents with this topic, trash excluded"}}),
	"TopicList":         listOf("Topic"),
	"TopicCreate":       obj([]string{"name"}, map[string]any{"name": str, "description": str, "color": str}),
	"TopicPatch":        obj(nil, map[string]any{"name": str, "description": str, "color": str}),
	"AdminUser":         map[string]any{"allOf": []any{ref("User"), obj(nil, map[string]any{"used_bytes": integer, "limit_bytes": integer, "document_count": integer})}},
	"AdminUserList":     listOf("AdminUser"),
	"AdminUserCreate":   obj([]string{"username"}, map[string]any{"username": str, "role": str, "limit_bytes": integer}),
	"AdminUserCreated":  obj(nil, map[string]any{"user": ref("User"), "temporary_password": str}),
	"AdminUserPatch":    obj(nil, map[string]any{"is_active": boolean, "role": str, "limit_bytes": integer}),
	"ResetPassword":     obj(nil, map[string]any{"reset_totp": boolean}),
	"TemporaryPassword": obj(nil, map[string]any{"temporary_password": str}),
	"AuditEntry":        obj(nil, map[string]any{"id": str, "at": dateTime, "actor_id": strNull, "action": str, "target": str, "ip": str}),
	"AuditPage":         obj(nil, map[string]any{"items": listOf("AuditEntry"), "next_cursor": strNull}),
}

var pathParam = regexp.MustCompile(`\{(\w+)\}`)

// errorStatuses adds to an operation's own errors those every route of its kind can give:
// 400 for text no database could store (in a JSON body, a path parameter or a query
// string), 404 for an id that is not a UUID, 503 while the database is down or restarting.
func errorStatuses(op operation) []int {
	set := map[int]bool{}
	for _, c := range op.errors {
		set[c] = true
	}
	signedIn := op.auth != ""
	if signedIn || (op.body != "" && op.body != "Multipart") {
		set[http.StatusBadRequest] = true
	}
	if strings.Contains(op.path, "{id}") {
		set[http.StatusNotFound] = true
	}
	if signedIn || op.path == "/api/auth/login" || op.path == "/api/auth/csrf" {
		set[http.StatusServiceUnavailable] = true
	}
	out := make([]int, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Ints(out)
	return out
}

// queryParams are the query parameters of routes other than the document list.
var queryParams = map[string][]string{
	"GET /api/documents/zip": {"ids"},
	"GET /api/export":        {"text"},
}

// openAPIDocument builds the OpenAPI 3.1 document from the table above.
func openAPIDocument(version string) []byte {
	paths := map[string]map[string]any{}
	for _, op := range operations {
		o := map[string]any{"summary": op.summary, "operationId": strings.ToLower(op.method) + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_", ".", "_").Replace(op.path)}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(op.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": str})
		}
		if op.method == "GET" && op.path == "/api/documents" {
			for _, q := range []string{"limit", "cursor", "status", "topic", "q"} {
				params = append(params, map[string]any{"name": q, "in": "query", "schema": str})
			}
			params = append(params, listOrderParams...)
		}
		for _, q := range queryParams[op.method+" "+op.path] {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": str})
		}
		if params != nil {
			o["parameters"] = params
		}
		switch {
		case op.body == "Multipart":
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"multipart/form-data": map[string]any{"schema": ref("Multipart")}}}
		case op.body != "":
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(op.body)}}}
		}
		responses := map[string]any{}
		ok := map[string]any{"description": http.StatusText(op.status)}
		if op.result != "" {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": ref(op.result)}}
		}
		responses[strconv.Itoa(op.status)] = ok
		for _, code := range errorStatuses(op) {
			r := map[string]any{"description": http.StatusText(code)}
			if code >= 400 {
				r["content"] = map[string]any{"application/json": map[string]any{"schema": ref("Error")}}
			}
			if code == http.StatusTooManyRequests {
				r["headers"] = map[string]any{"Retry-After": map[string]any{"description": "seconds to wait before the next attempt", "schema": integer}}
			}
			responses[strconv.Itoa(code)] = r
		}
		addLimitResponses(op, responses)
		o["responses"] = responses
		switch op.auth {
		case "user", "member", "admin":
			o["security"] = []any{map[string]any{"session": []string{}, "csrf": []string{}}, map[string]any{"bearer": []string{}}}
			if op.auth != "user" {
				o["description"] = "Role " + map[string]string{"member": "user", "admin": "admin"}[op.auth] + " only; others get 403."
			}
		}
		if paths[op.path] == nil {
			paths[op.path] = map[string]any{}
		}
		paths[op.path][strings.ToLower(op.method)] = o
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "DocuVault API", "version": version,
			"description": "Self-hosted document vault. Errors are {\"detail\": …}. Text that is not valid UTF-8 or holds NUL bytes is 400, an id that is not a UUID 404, a database that is down or restarting 503. Cookie sessions send X-CSRF-Token on unsafe methods; API tokens use Authorization: Bearer."},
		"paths": paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": "docuvault_session"},
				"csrf":    map[string]any{"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
				"bearer":  map[string]any{"type": "http", "scheme": "bearer"},
			},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err) // the document is built from literals
	}
	return b
}

// listOrderParams are the order and trash parameters of GET /api/documents.
var listOrderParams = []any{
	map[string]any{"name": "sort", "in": "query", "schema": map[string]any{"enum": []string{"created", "name", "size"}, "default": "created"},
		"description": "order of a plain list (name: case-insensitive; ties by id); with q only created. A cursor serves only the sort and order it was made for (400 otherwise)"},
	map[string]any{"name": "order", "in": "query", "schema": map[string]any{"enum": []string{"desc", "asc"}, "default": "desc"}},
	map[string]any{"name": "trashed", "in": "query", "schema": map[string]any{"enum": []string{"false", "true"}, "default": "false"},
		"description": "true: only the trash; otherwise trashed documents are hidden (lists and search)"},
}

// addLimitResponses adds the answers every route may give because of the timeouts
// (timeouts.go): 503 when the request passes its deadline, 408 when its body is too slow.
func addLimitResponses(op operation, responses map[string]any) {
	errBody := map[string]any{"application/json": map[string]any{"schema": ref("Error")}}
	if op.path != "/healthz" && op.path != "/api/openapi.json" {
		responses["503"] = map[string]any{"content": errBody,
			"description": "A dependency (database, blob store) is unavailable, or the request passed its deadline (server.request_timeout; server.upload_timeout for uploads and downloads)"}
	}
	if op.body != "" || op.path == "/api/blobs/{token}" {
		responses["408"] = map[string]any{"content": errBody,
			"description": "The request body did not arrive in time (server.body_timeout; server.upload_timeout for documents)"}
	}
}

// openAPI serves the document, built once.
func (s *Server) openAPI() echo.HandlerFunc {
	doc := openAPIDocument(s.opts.Version)
	return func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/json", doc)
	}
}
