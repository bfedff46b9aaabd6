package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/porchgw/porch/gateway"
	"github.com/porchgw/porch/inbox"
	"github.com/porchgw/porch/sender"
	"github.com/sirupsen/logrus"
)

// TestAccessLogLine: every request gets one info line, and an authentic
// delivery's line also carries its outcome.
func TestAccessLogLine(t *testing.T) {
	var buf bytes.Buffer
	log := logrus.New()
	log.SetOutput(&buf)
	log.SetFormatter(&logrus.JSONFormatter{})
	accept := storeFunc(func(context.Context, *inbox.Event) (inbox.Result, error) { return inbox.Result{ID: "ev-1"}, nil })
	s, err := gateway.New(gateway.Config{
		Sources: []gateway.Source{{Name: "koji", Provider: "koji", ProviderConfig: gateway.ProviderConfig{Secrets: []string{"ks"}}}},
	}, accept, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	def, _ := gateway.Lookup("koji")
	body := sender.Sample(def.Name, "interview.completed", "i1", time.Now())
	common := []string{"bytes", "component", "duration_ms", "level", "method", "msg", "path", "remote", "request_id", "status", "time"}
	outcome := []string{"duplicate", "event", "event_id", "secret_index", "sig_mode", "source"}
	tests := []struct {
		name   string
		header http.Header
		want   []string
	}{
		{"accepted", sender.Sign(def.Name, body, "ks", time.Now()), append(slices.Clone(common), outcome...)},
		{"refused", sender.Sign(def.Name, body, "wrong", time.Now()), common},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			r := httptest.NewRequest(http.MethodPost, "/in/koji", bytes.NewReader(body))
			maps.Copy(r.Header, tt.header)
			s.Handler().ServeHTTP(httptest.NewRecorder(), r)
			lines := accessLines(t, buf.String())
			if len(lines) != 1 {
				t.Fatalf("%d access-log lines, want 1: %s", len(lines), buf.String())
			}
			if diff := cmp.Diff(slices.Sorted(slices.Values(tt.want)), slices.Sorted(maps.Keys(lines[0]))); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if lines[0]["level"] != "info" {
				t.Errorf("level = %v, want info", lines[0]["level"])
			}
		})
	}
	t.Run("level warn", func(t *testing.T) {
		log.SetLevel(logrus.WarnLevel)
		defer log.SetLevel(logrus.InfoLevel)
		buf.Reset()
		r := httptest.NewRequest(http.MethodPost, "/in/koji", bytes.NewReader(body))
		maps.Copy(r.Header, sender.Sign(def.Name, body, "ks", time.Now()))
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		if w.Code != http.StatusOK || len(accessLines(t, buf.String())) != 0 {
			t.Fatalf("status %d, log %q: want 200 and no access-log line", w.Code, buf.String())
		}
	})
}

// TestAccessLogLineBoundsPayloadFields: an authentic delivery with an event
// type of 70 KB gets an access-log line of ordinary size.
func TestAccessLogLineBoundsPayloadFields(t *testing.T) {
	var buf bytes.Buffer
	log := logrus.New()
	log.SetOutput(&buf)
	log.SetFormatter(&logrus.JSONFormatter{})
	accept := storeFunc(func(context.Context, *inbox.Event) (inbox.Result, error) { return inbox.Result{ID: "ev-1"}, nil })
	s, err := gateway.New(gateway.Config{
		Sources: []gateway.Source{{Name: "koji", Provider: "koji", ProviderConfig: gateway.ProviderConfig{Secrets: []string{"ks"}}}},
	}, accept, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	def, _ := gateway.Lookup("koji")
	long := strings.Repeat("x", 70000)
	body := bytes.Replace(sender.Sample(def.Name, "interview.completed", "i1", time.Now()), []byte(`"interview.completed"`), []byte(`"`+long+`"`), 1)
	r := httptest.NewRequest(http.MethodPost, "/in/koji", bytes.NewReader(body))
	maps.Copy(r.Header, sender.Sign(def.Name, body, "ks", time.Now()))
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	lines := accessLines(t, buf.String())
	if len(lines) != 1 {
		t.Fatalf("%d access-log lines, want 1", len(lines))
	}
	if ev, _ := lines[0]["event"].(string); len(ev) > 200 || !strings.HasPrefix(long, strings.TrimSuffix(ev, "…")) {
		t.Errorf("event field of %d bytes: want it cut to a prefix", len(ev))
	}
	if buf.Len() > 4096 {
		t.Errorf("log output of %d bytes for one delivery", buf.Len())
	}
}

// accessLines are the "request" lines among JSON log output.
func accessLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for line := range strings.Lines(out) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	return lines
}
