package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Message is a chat message.
type Message struct {
	ID        string    `json:"id"`
	Channel   string    `json:"channel"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

// Chat scopes; the configured token holds both.
const (
	ScopeChatRead  = "chat.read"
	ScopeChatWrite = "chat.write"
)

// Chat simulates a chat tool.
//
//	POST /v1/channels/{channel}/messages  {"text":"…"} → 201 {"id":"msg_<n>"}
//	                                      (Idempotency-Key honoured, as
//	                                      Slack's client_msg_id dedups)
//	GET  /v1/channels/{channel}/messages  → {"messages":[…]}
type Chat struct {
	*base

	mu       sync.Mutex
	seq      int
	channels map[string][]Message
	keys     idempotencyKeys
}

// NewChat returns a chat tool with no messages.
func NewChat(cfg *Config) *Chat {
	c := &Chat{base: newBase(cfg.withDefaults(), []string{ScopeChatRead, ScopeChatWrite}, false), channels: map[string][]Message{}, keys: idempotencyKeys{}}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/channels/{channel}/messages", c.authed(ScopeChatWrite, c.post))
	mux.Handle("GET /v1/channels/{channel}/messages", c.authed(ScopeChatRead, c.list))
	c.setRoutes(mux)
	return c
}

// Messages returns the channel's messages, oldest first.
func (c *Chat) Messages(channel string) []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.channels[channel]...)
}

func (c *Chat) post(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "request body too large")
		return
	}
	var body struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body")
		return
	}
	if strings.TrimSpace(body.Text) == "" {
		writeError(w, http.StatusUnprocessableEntity, "text is required")
		return
	}
	ch := r.PathValue("channel")
	key := r.Header.Get("Idempotency-Key")
	canon := ch + "\x00" + canonicalJSON(raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys.replay(w, key, canon) {
		return
	}
	c.seq++
	m := Message{ID: "msg_" + strconv.Itoa(c.seq), Channel: ch, Text: body.Text, CreatedAt: c.cfg.Now().UTC()}
	c.channels[ch] = append(c.channels[ch], m)
	resp, _ := json.Marshal(map[string]string{"id": m.ID})
	c.keys.remember(key, canon, http.StatusCreated, resp)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(resp)
}

func (c *Chat) list(w http.ResponseWriter, r *http.Request) {
	msgs := c.Messages(r.PathValue("channel"))
	if msgs == nil {
		msgs = []Message{}
	}
	writeJSON(w, http.StatusOK, map[string][]Message{"messages": msgs})
}
