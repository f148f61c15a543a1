package classify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RemoteConfig is where a remote provider lives and which model it uses by default.
type RemoteConfig struct {
	APIKey  string
	BaseURL string
	Model   string
	Timeout time.Duration // per request
	// MaxTextChars bounds the document text a prompt carries (0: DefaultMaxTextChars).
	MaxTextChars int
}

func (c RemoteConfig) maxText() int {
	if c.MaxTextChars <= 0 {
		return DefaultMaxTextChars
	}
	return c.MaxTextChars
}

func (c RemoteConfig) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 60 * time.Second
	}
	return c.Timeout
}

func (c RemoteConfig) model(req Request) string {
	if req.Model != "" {
		return req.Model
	}
	return c.Model
}

// retryAfter reads a Retry-After header in seconds (0 when absent).
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// OpenAI uses the Chat Completions API with a JSON-schema response format whose topic names
// are an enum of the candidates; any OpenAI-compatible server that supports it works.
// It is one JSON request, so it is plain net/http rather than an SDK of several megabytes.
type OpenAI struct {
	cfg  RemoteConfig
	http *http.Client
}

// NewOpenAI builds the provider; it never retries by itself, the pool retries with backoff.
func NewOpenAI(cfg RemoteConfig) *OpenAI {
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://api.openai.com/v1"
	}
	return &OpenAI{cfg: cfg, http: &http.Client{Timeout: cfg.timeout()}}
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Classify asks for a JSON object naming the topics, bound to the answer schema.
func (p *OpenAI) Classify(ctx context.Context, req Request) ([]Choice, error) {
	var out struct {
		Choices []struct {
			Message chatMessage `json:"message"`
		} `json:"choices"`
	}
	err := postJSON(ctx, p.http, "openai", strings.TrimSuffix(p.cfg.BaseURL, "/")+"/chat/completions",
		map[string]string{"Authorization": "Bearer " + p.cfg.APIKey}, map[string]any{
			"model":    p.cfg.model(req),
			"messages": []chatMessage{{Role: "system", Content: systemPrompt}, {Role: "user", Content: userPrompt(req, p.cfg.maxText())}},
			"response_format": map[string]any{"type": "json_schema", "json_schema": map[string]any{
				"name": "topics", "strict": true, "schema": answerSchema(req.Candidates)}},
			"temperature": 0,
		}, &out)
	if err != nil {
		return nil, err
	}
	if len(out.Choices) == 0 {
		return nil, &ProviderError{Provider: "openai", Retryable: true, Err: errors.New("answer without choices")}
	}
	choices, err := parseAnswer("openai", out.Choices[0].Message.Content)
	return onlyCandidates(choices, req.Candidates), err
}

// anthropicVersion is the Messages API version the requests are written for.
const anthropicVersion = "2023-06-01"

// Anthropic uses the Messages API, as plain JSON over net/http.
type Anthropic struct {
	cfg  RemoteConfig
	http *http.Client
}

// NewAnthropic builds the provider; it never retries by itself.
func NewAnthropic(cfg RemoteConfig) *Anthropic {
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://api.anthropic.com"
	}
	return &Anthropic{cfg: cfg, http: &http.Client{Timeout: cfg.timeout()}}
}

// Classify makes the model call a tool whose input schema is the answer's.
func (p *Anthropic) Classify(ctx context.Context, req Request) ([]Choice, error) {
	var out struct {
		Content []struct {
			Type  string          `json:"type"`
			Name  string          `json:"name"`
			Input json.RawMessage `json:"input"`
		} `json:"content"`
	}
	err := postJSON(ctx, p.http, "anthropic", strings.TrimSuffix(p.cfg.BaseURL, "/")+"/v1/messages",
		map[string]string{"X-Api-Key": p.cfg.APIKey, "Anthropic-Version": anthropicVersion}, map[string]any{
			"model":      p.cfg.model(req),
			"max_tokens": 512,
			"system":     systemPrompt,
			"messages":   []chatMessage{{Role: "user", Content: userPrompt(req, p.cfg.maxText())}},
			"tools": []map[string]any{{"name": anthropicTool, "description": "Record the topics of the document, chosen only from the allowed list.",
				"input_schema": answerSchema(req.Candidates)}},
			"tool_choice": map[string]any{"type": "tool", "name": anthropicTool},
		}, &out)
	if err != nil {
		return nil, err
	}
	for _, block := range out.Content {
		if block.Type == "tool_use" && block.Name == anthropicTool {
			choices, err := parseAnswer("anthropic", string(block.Input))
			return onlyCandidates(choices, req.Candidates), err
		}
	}
	return nil, &ProviderError{Provider: "anthropic", Retryable: true, Err: errors.New("malformed answer: no " + anthropicTool + " tool call")}
}

// anthropicTool is the tool whose input is the answer.
const anthropicTool = "assign_topics"

// maxAnswerBytes bounds what a provider's answer may weigh.
const maxAnswerBytes = 1 << 20

// postJSON posts body as JSON with headers and decodes a 200 answer into out. Failures come
// back as *ProviderError: HTTP statuses by their class, transport failures as retryable.
func postJSON(ctx context.Context, client *http.Client, provider, url string, headers map[string]string, body, out any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return &ProviderError{Provider: provider, Err: err}
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return &ProviderError{Provider: provider, Err: err}
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	for k, v := range headers {
		hr.Header.Set(k, v)
	}
	resp, err := client.Do(hr)
	if err != nil {
		return transportError(provider, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return transportError(provider, err)
	}
	if resp.StatusCode != http.StatusOK {
		return statusError(provider, resp.StatusCode, retryAfter(resp), apiMessage(raw))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &ProviderError{Provider: provider, Retryable: true, Err: fmt.Errorf("malformed response: %w", err)}
	}
	return nil
}

// apiMessage is the message of an error body in the OpenAI/Anthropic shape
// {"error":{"message":…}}, or the raw body.
func apiMessage(raw []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
		return e.Error.Message
	}
	return string(raw)
}

// Ollama uses Ollama's native chat API with a JSON schema as its format (no official Go SDK
// outside the server module), over net/http with an explicit timeout.
type Ollama struct {
	cfg  RemoteConfig
	http *http.Client
}

// NewOllama builds the provider.
func NewOllama(cfg RemoteConfig) *Ollama {
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://127.0.0.1:11434"
	}
	return &Ollama{cfg: cfg, http: &http.Client{Timeout: cfg.timeout()}}
}

// Classify posts to /api/chat without streaming.
func (p *Ollama) Classify(ctx context.Context, req Request) ([]Choice, error) {
	var out struct {
		Message chatMessage `json:"message"`
	}
	err := postJSON(ctx, p.http, "ollama", strings.TrimSuffix(p.cfg.BaseURL, "/")+"/api/chat", nil, map[string]any{
		"model":    p.cfg.model(req),
		"messages": []chatMessage{{Role: "system", Content: systemPrompt}, {Role: "user", Content: userPrompt(req, p.cfg.maxText())}},
		"format":   answerSchema(req.Candidates),
		"stream":   false,
		"options":  map[string]any{"temperature": 0},
	}, &out)
	if err != nil {
		return nil, err
	}
	choices, err := parseAnswer("ollama", out.Message.Content)
	return onlyCandidates(choices, req.Candidates), err
}
