package openai

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ctxfs/ctxfs/inference"
	"github.com/ctxfs/ctxfs/inference/internal/testmodel"
)

// server starts ctxfs's OpenAI handler over the real stories260K engine.
func server(tb testing.TB) (*inference.Engine, *httptest.Server, *Client) {
	tb.Helper()
	e, err := inference.Open(testmodel.Path(tb, testmodel.Stories260K), false, inference.EngineOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(NewHandler(e, HandlerOptions{Model: "stories260K"}))
	tb.Cleanup(func() { srv.Close(); e.Close() })
	return e, srv, &Client{BaseURL: srv.URL + "/v1", Model: "stories260K", HTTPClient: srv.Client()}
}

func TestClientAgainstServer(t *testing.T) {
	e, _, c := server(t)
	ctx := context.Background()
	for _, req := range []inference.Request{
		{Prompt: "Once upon a time", MaxTokens: 30},
		{Prompt: "", MaxTokens: 20},
		{Prompt: "Once upon a time", MaxTokens: 30, Temperature: 1, TopP: 0.9, Seed: 42},
		{Prompt: "Once upon a time", MaxTokens: 60, Stop: []string{"Lily"}},
		{Messages: []inference.Message{{Role: "system", Content: "You tell stories."}, {Role: "user", Content: "A story please."}}, MaxTokens: 25},
	} {
		name := req.Prompt
		if len(req.Messages) > 0 {
			name = "chat"
		}
		t.Run(name, func(t *testing.T) {
			direct, err := e.Generate(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Generate(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if got.Text != direct.Text || got.FinishReason != direct.FinishReason || got.Usage != direct.Usage {
				t.Fatalf("over HTTP %q %s %+v; direct %q %s %+v", got.Text, got.FinishReason, got.Usage, direct.Text, direct.FinishReason, direct.Usage)
			}
			// Streaming: the pieces add up to the same text, and usage arrives.
			var pieces []string
			sreq := req
			sreq.OnToken = func(tk inference.Token) error {
				pieces = append(pieces, tk.Text)
				return nil
			}
			st, err := c.Generate(ctx, sreq)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(pieces, "") != direct.Text || st.Text != direct.Text || st.FinishReason != direct.FinishReason || st.Usage != direct.Usage {
				t.Fatalf("streamed %q (%d pieces) %s %+v; direct %q %s %+v", st.Text, len(pieces), st.FinishReason, st.Usage, direct.Text, direct.FinishReason, direct.Usage)
			}
			if direct.Text != "" && len(pieces) < 2 {
				t.Fatalf("stream came in %d pieces", len(pieces))
			}
		})
	}
}

func TestServerEndpoints(t *testing.T) {
	_, srv, c := server(t)
	resp, err := srv.Client().Get(srv.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	var ml modelList
	json.NewDecoder(resp.Body).Decode(&ml)
	resp.Body.Close()
	if len(ml.Data) != 1 || ml.Data[0].ID != "stories260K" || ml.Object != "list" {
		t.Fatalf("models: %+v", ml)
	}
	for _, c := range []struct {
		path, body string
		status     int
	}{
		{"/v1/completions", `{"prompt": "x", "temperature": 5}`, 400},
		{"/v1/completions", `{"prompt": ["a", "b"]}`, 400},
		{"/v1/completions", `{"prompt": "x", "n": 2}`, 400},
		{"/v1/completions", `not json`, 400},
		{"/v1/chat/completions", `{"messages": []}`, 400},
		{"/v1/chat/completions", `{"messages": [{"role": "wizard", "content": "x"}]}`, 400},
		{"/v1/completions", `{"prompt": "` + strings.Repeat("a", MaxBodyBytes) + `"}`, 413},
		{"/v1/nothing", `{}`, 404},
		{"/v1/completions", `{"prompt": "Once", "max_tokens": 3, "temperature": 0}`, 200},
	} {
		resp, err := srv.Client().Post(srv.URL+c.path, "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s %.60s: %d %s, want %d", c.path, c.body, resp.StatusCode, b, c.status)
		}
		if c.status == 400 {
			var eb errorBody
			if json.Unmarshal(b, &eb) != nil || eb.Error.Message == "" || eb.Error.Type != "invalid_request_error" {
				t.Errorf("error body %s", b)
			}
		}
	}
	// The client maps a 400 to ErrInvalid.
	_, err = c.Generate(context.Background(), inference.Request{Prompt: "x", Temperature: 3})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || !errors.Is(err, inference.ErrInvalid) {
		t.Fatalf("bad temperature: %v", err)
	}
}

// TestConcurrentClients runs several clients at once (run with -race): the engine
// serializes them and each gets the greedy result.
func TestConcurrentClients(t *testing.T) {
	e, _, c := server(t)
	want, err := e.Generate(context.Background(), inference.Request{Prompt: "Once upon a time", MaxTokens: 15})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(stream bool) {
			defer wg.Done()
			req := inference.Request{Prompt: "Once upon a time", MaxTokens: 15}
			if stream {
				req.OnToken = func(inference.Token) error { return nil }
			}
			got, err := c.Generate(context.Background(), req)
			if err == nil && got.Text != want.Text {
				err = errors.New("got " + got.Text)
			}
			errs <- err
		}(i%2 == 0)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestParseRequest(t *testing.T) {
	p, err := parseRequest([]byte(`{"prompt":["hi"],"max_tokens":5,"stop":"\n","top_k":3,"min_p":0.1,"seed":7,"stream":true,"stream_options":{"include_usage":true}}`), false)
	if err != nil {
		t.Fatal(err)
	}
	r := p.req
	if r.Prompt != "hi" || r.MaxTokens != 5 || len(r.Stop) != 1 || r.TopK != 3 || r.MinP != 0.1 || r.Seed != 7 || !p.stream || !p.includeUsage {
		t.Fatalf("parsed %+v", p)
	}
	if r.Temperature != 1 || r.TopP != 1 {
		t.Fatalf("defaults: temperature %v top_p %v, want OpenAI's 1 and 1", r.Temperature, r.TopP)
	}
}

// FuzzParseRequest checks that no body makes the parser panic, and that what it accepts
// is within the documented bounds. The seed corpus is in testdata/fuzz.
func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(`{"prompt":"Once upon a time","max_tokens":16}`), false)
	f.Add([]byte(`{"messages":[{"role":"user","content":"hi"}],"stream":true}`), true)
	f.Fuzz(func(t *testing.T, body []byte, chat bool) {
		p, err := parseRequest(body, chat)
		if err != nil {
			if !errors.Is(err, inference.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		r := p.req
		if r.Temperature < 0 || r.Temperature > 2 || r.TopP < 0 || r.TopP > 1 || r.MaxTokens < 0 || len(r.Stop) > maxStops {
			t.Fatalf("accepted out-of-range request %+v", r)
		}
		if chat == (len(r.Messages) == 0) {
			t.Fatalf("chat=%v with %d messages", chat, len(r.Messages))
		}
	})
}

// FuzzReadStream feeds arbitrary server-sent event streams to the client's reader: it
// must never panic, and text it returns is what it streamed.
func FuzzReadStream(f *testing.F) {
	f.Add([]byte("data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: {\"choices\":[{\"text\":\"b\",\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"))
	f.Add([]byte("data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"hi\"}}]}\n\n: comment\nevent: x\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\n\ndata: [DONE]\n"))
	f.Add([]byte("data: {\"error\":{\"message\":\"boom\"}}\n\n"))
	f.Add([]byte("data: {not json\n\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		var c Client
		var got strings.Builder
		resp, err := c.readStream(strings.NewReader(string(stream)), func(tk inference.Token) error {
			got.WriteString(tk.Text)
			return nil
		})
		if err == nil && resp.Text != got.String() {
			t.Fatalf("returned %q, streamed %q", resp.Text, got.String())
		}
	})
}
