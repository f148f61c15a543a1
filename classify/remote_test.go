package classify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var sampleReq = Request{Model: "", Filename: "bill.txt", Text: "Electricity bill for March",
	Candidates: []Candidate{{ID: "1", Name: "Finance", Description: "money matters"}, {ID: "2", Name: "Health"}}}

// fakeAPI answers like a provider's API after checking the request as the real one would.
type fakeAPI struct {
	t       *testing.T
	check   func(r *http.Request, body map[string]any)
	status  int
	header  map[string]string
	reply   string
	delay   time.Duration
	lastReq map[string]any
}

func (f *fakeAPI) serve() *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			f.t.Errorf("request body is not JSON: %s", raw)
		}
		f.lastReq = body
		if f.check != nil {
			f.check(r, body)
		}
		if f.delay > 0 {
			time.Sleep(f.delay)
		}
		for k, v := range f.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		if f.status == 0 {
			f.status = 200
		}
		w.WriteHeader(f.status)
		io.WriteString(w, f.reply)
	}))
	f.t.Cleanup(srv.Close)
	return srv
}

func openAIReply(content string) string {
	b, _ := json.Marshal(content)
	return `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":` +
		string(b) + `},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`
}

func anthropicReply(content string) string {
	b, _ := json.Marshal(content)
	return `{"id":"msg_1","type":"message","role":"assistant","model":"claude-3-5-haiku-latest","content":[{"type":"text","text":` +
		string(b) + `}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}`
}

func anthropicToolReply(input string) string {
	return `{"id":"msg_1","type":"message","role":"assistant","model":"claude-3-5-haiku-latest","content":[{"type":"tool_use","id":"toolu_1","name":"assign_topics","input":` +
		input + `}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}`
}

// checkSchema fails unless schema binds topic names to exactly the candidates' names.
func checkSchema(t *testing.T, where string, schema any) {
	t.Helper()
	s, _ := schema.(map[string]any)
	props, _ := s["properties"].(map[string]any)
	topics, _ := props["topics"].(map[string]any)
	items, _ := topics["items"].(map[string]any)
	iprops, _ := items["properties"].(map[string]any)
	name, _ := iprops["name"].(map[string]any)
	enum, _ := name["enum"].([]any)
	if len(enum) != 2 || enum[0] != "Finance" || enum[1] != "Health" {
		t.Errorf("%s: topic names are not bound to the candidates: %v", where, schema)
	}
	if _, ok := iprops["confidence"]; !ok {
		t.Errorf("%s: no confidence in the schema: %v", where, schema)
	}
}

func ollamaReply(content string) string {
	b, _ := json.Marshal(content)
	return `{"model":"llama3.1","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":` + string(b) + `},"done":true}`
}

const goodAnswer = `{"topics":[{"name":"Finance","confidence":0.92},{"name":"Invented","confidence":0.5}]}`

func checkPrompt(t *testing.T, messages []any) {
	t.Helper()
	all := ""
	for _, m := range messages {
		b, _ := json.Marshal(m)
		all += string(b)
	}
	for _, want := range []string{"Finance", "money matters", "Health", "Electricity bill for March", "untrusted"} {
		if !strings.Contains(all, want) {
			t.Errorf("prompt lacks %q: %s", want, all)
		}
	}
}

func TestOpenAIProvider(t *testing.T) {
	f := &fakeAPI{t: t, reply: openAIReply(goodAnswer), check: func(r *http.Request, body map[string]any) {
		if r.Method != "POST" || r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-test" {
			t.Errorf("request %s %s auth %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		if body["model"] != "gpt-4o" {
			t.Errorf("model %v", body["model"])
		}
		rf, _ := body["response_format"].(map[string]any)
		js, _ := rf["json_schema"].(map[string]any)
		if rf["type"] != "json_schema" || js["strict"] != true {
			t.Errorf("response_format %v", body["response_format"])
		}
		checkSchema(t, "openai", js["schema"])
		msgs, _ := body["messages"].([]any)
		if len(msgs) != 2 || msgs[0].(map[string]any)["role"] != "system" || msgs[1].(map[string]any)["role"] != "user" {
			t.Errorf("messages %v", msgs)
		}
		checkPrompt(t, msgs)
	}}
	srv := f.serve()
	p := NewOpenAI(RemoteConfig{APIKey: "sk-test", BaseURL: srv.URL + "/v1", Model: "gpt-4o-mini"})
	req := sampleReq
	req.Model = "gpt-4o"
	got, err := p.Classify(context.Background(), req)
	// "Invented" is outside the enum: dropped.
	if err != nil || len(got) != 1 || got[0].Name != "Finance" || got[0].Confidence != 0.92 {
		t.Fatalf("classify: %+v %v", got, err)
	}
}

func TestAnthropicProvider(t *testing.T) {
	f := &fakeAPI{t: t, reply: anthropicReply("Here you go: " + goodAnswer), check: func(r *http.Request, body map[string]any) {
		keyed := r.Header.Get("X-Api-Key") == "ant-key" || r.Header.Get("Authorization") == "Bearer ant-key"
		if r.Method != "POST" || r.URL.Path != "/v1/messages" || !keyed || r.Header.Get("Anthropic-Version") == "" {
			t.Errorf("request %s %s headers %v", r.Method, r.URL.Path, r.Header)
		}
		if body["model"] != "claude-3-5-haiku-latest" || body["max_tokens"] == nil || body["system"] == nil {
			t.Errorf("body %v", body)
		}
		msgs, _ := body["messages"].([]any)
		checkPrompt(t, append(msgs, body["system"]))
		tools, _ := body["tools"].([]any)
		choice, _ := body["tool_choice"].(map[string]any)
		if len(tools) != 1 || choice["type"] != "tool" || choice["name"] != "assign_topics" {
			t.Errorf("tools %v, tool_choice %v", body["tools"], body["tool_choice"])
			return
		}
		tool, _ := tools[0].(map[string]any)
		checkSchema(t, "anthropic", tool["input_schema"])
	}}
	srv := f.serve()
	p := NewAnthropic(RemoteConfig{APIKey: "ant-key", BaseURL: srv.URL, Model: "claude-3-5-haiku-latest"})
	// A text answer instead of the tool call is malformed: retried, not trusted.
	_, err := p.Classify(context.Background(), sampleReq)
	var pe *ProviderError
	if !errors.As(err, &pe) || !pe.Retryable {
		t.Fatalf("prose answer: %v", err)
	}
	f.reply = anthropicToolReply(goodAnswer)
	got, err := p.Classify(context.Background(), sampleReq)
	if err != nil || len(got) != 1 || got[0].Name != "Finance" || got[0].Confidence != 0.92 {
		t.Fatalf("classify: %+v %v", got, err)
	}
}

func TestOllamaProvider(t *testing.T) {
	f := &fakeAPI{t: t, reply: ollamaReply(`{"topics":[{"name":"Health","confidence":0.7},{"name":"Secrets","confidence":0.99}]}`), check: func(r *http.Request, body map[string]any) {
		if r.Method != "POST" || r.URL.Path != "/api/chat" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		if body["model"] != "llama3.1" || body["stream"] != false {
			t.Errorf("body %v", body)
		}
		checkSchema(t, "ollama", body["format"])
		msgs, _ := body["messages"].([]any)
		checkPrompt(t, msgs)
	}}
	srv := f.serve()
	p := NewOllama(RemoteConfig{BaseURL: srv.URL, Model: "llama3.1"})
	got, err := p.Classify(context.Background(), sampleReq)
	if err != nil || len(got) != 1 || got[0].Name != "Health" || got[0].Confidence != 0.7 {
		t.Fatalf("classify: %+v %v", got, err)
	}
}

// TestPromptCarriesAtMostMaxTextChars: a long document is cut to classify.max_text_chars.
func TestPromptCarriesAtMostMaxTextChars(t *testing.T) {
	var prompt string
	f := &fakeAPI{t: t, reply: ollamaReply(`{"topics":[]}`), check: func(_ *http.Request, body map[string]any) {
		b, _ := json.Marshal(body["messages"])
		prompt = string(b)
	}}
	srv := f.serve()
	p := NewOllama(RemoteConfig{BaseURL: srv.URL, Model: "llama3.1", MaxTextChars: 100})
	req := sampleReq
	req.Text = strings.Repeat("ä", 100) + "BEYOND-THE-CAP"
	if _, err := p.Classify(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(prompt, strings.Repeat("ä", 100)) || strings.Contains(prompt, "BEYOND-THE-CAP") {
		t.Fatalf("prompt was not cut at 100 characters: %s", prompt)
	}
}

// TestProviderErrorClasses checks each provider maps failures the same way.
func TestProviderErrorClasses(t *testing.T) {
	type mk func(url string) Provider
	providers := map[string]struct {
		build mk
		reply func(string) string
		path  string
	}{
		"openai": {func(u string) Provider {
			return NewOpenAI(RemoteConfig{APIKey: "k", BaseURL: u + "/v1", Model: "m", Timeout: 300 * time.Millisecond})
		}, openAIReply, "/v1"},
		"anthropic": {func(u string) Provider {
			return NewAnthropic(RemoteConfig{APIKey: "k", BaseURL: u, Model: "m", Timeout: 300 * time.Millisecond})
		}, anthropicReply, ""},
		"ollama": {func(u string) Provider {
			return NewOllama(RemoteConfig{BaseURL: u, Model: "m", Timeout: 300 * time.Millisecond})
		}, ollamaReply, ""},
	}
	cases := []struct {
		name       string
		status     int
		header     map[string]string
		reply      string
		delay      time.Duration
		retryable  bool
		retryAfter time.Duration
		contains   string
	}{
		{"unauthorized", 401, nil, `{"error":{"message":"bad key","type":"authentication_error"}}`, 0, false, 0, "authentication failed"},
		{"rate-limited", 429, map[string]string{"Retry-After": "7"}, `{"error":{"message":"slow down","type":"rate_limit_error"}}`, 0, true, 7 * time.Second, "rate limited"},
		{"server-error", 503, nil, `{"error":{"message":"overloaded","type":"overloaded_error"}}`, 0, true, 0, "server error"},
		{"bad-request", 400, nil, `{"error":{"message":"no such model","type":"invalid_request_error"}}`, 0, false, 0, "request refused"},
		{"timeout", 200, nil, "", time.Second, true, 0, ""},
		{"malformed", 200, nil, "", 0, true, 0, "malformed"},
	}
	for name, p := range providers {
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				reply := c.reply
				if c.status == 200 {
					reply = p.reply("not json at all")
				}
				f := &fakeAPI{t: t, status: c.status, header: c.header, reply: reply, delay: c.delay}
				srv := f.serve()
				_, err := p.build(srv.URL).Classify(context.Background(), sampleReq)
				var pe *ProviderError
				if !errors.As(err, &pe) {
					t.Fatalf("error %v is not a ProviderError", err)
				}
				if pe.Retryable != c.retryable || pe.RetryAfter != c.retryAfter || !strings.Contains(err.Error(), c.contains) {
					t.Fatalf("got retryable=%v after=%v %q", pe.Retryable, pe.RetryAfter, err)
				}
			})
		}
	}
}
