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

	"github.com/anthropics/anthropic-sdk-go/v2"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	openaiopt "github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// RemoteConfig is where a remote provider lives and which model it uses by default.
type RemoteConfig struct {
	APIKey  string
	BaseURL string
	Model   string
	Timeout time.Duration // per request
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

// OpenAI uses the Chat Completions API in JSON mode; any OpenAI-compatible server works.
type OpenAI struct {
	cfg    RemoteConfig
	client openai.Client
}

// NewOpenAI builds the provider; the SDK's own retries are off, the pool retries with backoff.
func NewOpenAI(cfg RemoteConfig) *OpenAI {
	return &OpenAI{cfg: cfg, client: openai.NewClient(openaiopt.WithAPIKey(cfg.APIKey), openaiopt.WithBaseURL(cfg.BaseURL),
		openaiopt.WithMaxRetries(0), openaiopt.WithRequestTimeout(cfg.timeout()))}
}

// Classify asks for a JSON object naming the topics.
func (p *OpenAI) Classify(ctx context.Context, req Request) ([]Choice, error) {
	resp, err := p.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:          shared.ChatModel(p.cfg.model(req)),
		Messages:       []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(systemPrompt), openai.UserMessage(userPrompt(req))},
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}},
		Temperature:    openai.Float(0),
	})
	if err != nil {
		var apiErr *openai.Error
		if errors.As(err, &apiErr) {
			return nil, statusError("openai", apiErr.StatusCode, retryAfter(apiErr.Response), apiErr.Message)
		}
		return nil, transportError("openai", err)
	}
	if len(resp.Choices) == 0 {
		return nil, &ProviderError{Provider: "openai", Retryable: true, Err: errors.New("answer without choices")}
	}
	return parseAnswer("openai", resp.Choices[0].Message.Content)
}

// Anthropic uses the Messages API.
type Anthropic struct {
	cfg    RemoteConfig
	client anthropic.Client
}

// NewAnthropic builds the provider; the SDK's own retries are off.
func NewAnthropic(cfg RemoteConfig) *Anthropic {
	return &Anthropic{cfg: cfg, client: anthropic.NewClient(anthropicopt.WithAPIKey(cfg.APIKey), anthropicopt.WithBaseURL(cfg.BaseURL),
		anthropicopt.WithMaxRetries(0), anthropicopt.WithRequestTimeout(cfg.timeout()))}
}

// Classify asks for the JSON answer as the whole reply.
func (p *Anthropic) Classify(ctx context.Context, req Request) ([]Choice, error) {
	msg, err := p.client.Messages.New(ctx, anthropic.MessageNewParams{
		Model:     anthropic.Model(p.cfg.model(req)),
		MaxTokens: 512,
		System:    []anthropic.TextBlockParam{{Text: systemPrompt}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(userPrompt(req)))},
	})
	if err != nil {
		var apiErr *anthropic.Error
		if errors.As(err, &apiErr) {
			return nil, statusError("anthropic", apiErr.StatusCode, retryAfter(apiErr.Response), apiErr.Error())
		}
		return nil, transportError("anthropic", err)
	}
	var text strings.Builder
	for _, block := range msg.Content {
		if block.Type == "text" {
			text.WriteString(block.Text)
		}
	}
	return parseAnswer("anthropic", text.String())
}

// Ollama uses Ollama's native chat API with format "json" (no official Go SDK outside the
// server module), over net/http with an explicit timeout.
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

type ollamaMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Classify posts to /api/chat without streaming.
func (p *Ollama) Classify(ctx context.Context, req Request) ([]Choice, error) {
	body, err := json.Marshal(map[string]any{
		"model":    p.cfg.model(req),
		"messages": []ollamaMessage{{Role: "system", Content: systemPrompt}, {Role: "user", Content: userPrompt(req)}},
		"format":   "json",
		"stream":   false,
		"options":  map[string]any{"temperature": 0},
	})
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(p.cfg.BaseURL, "/")+"/api/chat", bytes.NewReader(body))
	if err != nil {
		return nil, &ProviderError{Provider: "ollama", Err: err}
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := p.http.Do(hr)
	if err != nil {
		return nil, transportError("ollama", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, transportError("ollama", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError("ollama", resp.StatusCode, retryAfter(resp), string(raw))
	}
	var out struct {
		Message ollamaMessage `json:"message"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, &ProviderError{Provider: "ollama", Retryable: true, Err: fmt.Errorf("malformed response: %w", err)}
	}
	return parseAnswer("ollama", out.Message.Content)
}
