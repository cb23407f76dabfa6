package serve

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/edgectl/edgectl/internal/gittest"
)

const hookSecret = "It's a Secret to Everybody"

// githubSignature signs a body as GitHub does.
func githubSignature(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	io.WriteString(mac, body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// post calls the webhook of a server on loopback.
func (s *server) post(t testing.TB, path, body string, header map[string]string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+s.http+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// fired reports whether a trigger has a read pending, and takes it.
func fired(tr *Trigger) bool {
	select {
	case <-tr.C():
		return true
	default:
		return false
	}
}

// TestTrigger: a trigger fired many times before it is read is read once.
func TestTrigger(t *testing.T) {
	t.Parallel()
	tr := &Trigger{}
	if fired(tr) {
		t.Error("a new trigger has fired")
	}
	for range 5 {
		tr.Fire()
	}
	if !fired(tr) {
		t.Error("a fired trigger reads nothing")
	}
	if fired(tr) {
		t.Error("five fires read twice")
	}
	var none *Trigger
	none.Fire()
	if none.C() != nil {
		t.Error("a nil trigger has a channel")
	}
}

// TestWebhook calls the webhook as GitHub and GitLab do, and as others
// might: only a valid signature or token fires a fetch, and each call is
// counted.
func TestWebhook(t *testing.T) {
	t.Parallel()
	tr := &Trigger{}
	s := startServer(t, Options{Webhook: Webhook{Secret: hookSecret, Trigger: tr}})
	const body = `{"ref":"refs/heads/main","after":"4d2b"}`
	tests := []struct {
		name   string
		method string
		header map[string]string
		want   int
	}{
		{"GitHub", http.MethodPost, map[string]string{"X-Hub-Signature-256": githubSignature(hookSecret, body), "X-GitHub-Event": "push"}, http.StatusAccepted},
		{"GitLab", http.MethodPost, map[string]string{"X-Gitlab-Token": hookSecret, "X-Gitlab-Event": "Push Hook"}, http.StatusAccepted},
		{"GitHub, another secret", http.MethodPost, map[string]string{"X-Hub-Signature-256": githubSignature("guess", body)}, http.StatusUnauthorized},
		{"GitHub, another body", http.MethodPost, map[string]string{"X-Hub-Signature-256": githubSignature(hookSecret, body+" ")}, http.StatusUnauthorized},
		{"GitHub, not hex", http.MethodPost, map[string]string{"X-Hub-Signature-256": "sha256=zz"}, http.StatusUnauthorized},
		{"GitHub, SHA-1", http.MethodPost, map[string]string{"X-Hub-Signature-256": "sha1=" + strings.Repeat("0", 40)}, http.StatusUnauthorized},
		{"GitLab, wrong token", http.MethodPost, map[string]string{"X-Gitlab-Token": hookSecret + "!"}, http.StatusUnauthorized},
		{"GitLab, empty token", http.MethodPost, map[string]string{"X-Gitlab-Token": ""}, http.StatusUnauthorized},
		{"no signature", http.MethodPost, nil, http.StatusUnauthorized},
		{"GET", http.MethodGet, nil, http.StatusMethodNotAllowed},
	}
	if mf := s.metrics(t)["edgectl_serve_webhooks_total"]; mf.GetType() != dto.MetricType_COUNTER || len(mf.GetMetric()) != 2 {
		t.Errorf("edgectl_serve_webhooks_total: %v; want a counter with two series", mf)
	}
	if n := s.metric(t, `edgectl_serve_webhooks_total{result="refused"}`); n != 0 {
		t.Errorf("before any call, refused = %v; want the series at 0", n)
	}
	accepted, refused := 0, 0
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, "http://"+s.http+WebhookPath, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tt.header {
			req.Header[k] = []string{v}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
		// The handler fires before it answers.
		if got := fired(tr); got != (tt.want == http.StatusAccepted) {
			t.Errorf("%s: fired %v", tt.name, got)
		}
		switch tt.want {
		case http.StatusAccepted:
			accepted++
		case http.StatusUnauthorized:
			refused++
		}
	}
	if got := s.metric(t, `edgectl_serve_webhooks_total{result="accepted"}`); got != float64(accepted) {
		t.Errorf("accepted: %v, want %d", got, accepted)
	}
	if got := s.metric(t, `edgectl_serve_webhooks_total{result="refused"}`); got != float64(refused) {
		t.Errorf("refused: %v, want %d", got, refused)
	}
	if !containsLine(s.log.String(), "webhook refused", "X-Hub-Signature-256 does not match") {
		t.Error("the log does not say why a call was refused")
	}
	if strings.Contains(s.log.String(), hookSecret) {
		t.Error("the log shows the secret")
	}

	// Without a secret there is no webhook.
	none := startServer(t, Options{})
	if code := none.post(t, WebhookPath, body, map[string]string{"X-Gitlab-Token": ""}); code != http.StatusNotFound {
		t.Errorf("without a secret: %d, want 404", code)
	}
	if n := none.metric(t, `edgectl_serve_webhooks_total`); n != -1 {
		t.Errorf("without a secret the webhook is counted")
	}
}

// TestWebhookBodyLimit: a body past the limit is refused, signed or not.
func TestWebhookBodyLimit(t *testing.T) {
	t.Parallel()
	tr := &Trigger{}
	h := New(Options{Webhook: Webhook{Secret: hookSecret, Trigger: tr}}).Handler()
	big := strings.Repeat(" ", maxWebhookBody+1)
	for _, header := range []map[string]string{
		{"X-Hub-Signature-256": githubSignature(hookSecret, big)},
		{"X-Gitlab-Token": hookSecret},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader(big))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge || fired(tr) {
			t.Errorf("%v: %d, fired %v; want 413, not fired", header, rec.Code, fired(tr))
		}
	}
}

// TestWebhookCoalesces: calls that come while a fetch runs make one more
// fetch, not one each.
func TestWebhookCoalesces(t *testing.T) {
	t.Parallel()
	repo := gittest.New(t)
	c1 := commitFiles(repo, "", edgeRepo(map[string]string{"a": "1s"}))
	tr := &Trigger{}
	h := New(Options{Webhook: Webhook{Secret: hookSecret, Trigger: tr}}).Handler()
	w := startWatch(t, Git{URL: repo.Dir, Interval: time.Minute, CacheDir: t.TempDir(), Trigger: tr})

	// The first fetch is in apply: five pushes are announced meanwhile.
	e := w.next()
	if e.load == nil || e.load.Revision != c1 {
		t.Fatalf("first event: %+v; want the load of %s", e, c1)
	}
	c2 := commitFiles(repo, "", edgeRepo(map[string]string{"a": "2s"}))
	for range 5 {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader("{}"))
		req.Header.Set("X-Gitlab-Token", hookSecret)
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			t.Fatalf("webhook: %d", rec.Code)
		}
	}
	w.resume <- struct{}{}

	// One more fetch, at once: the interval's wait is asked for and not
	// over when the new commit comes.
	w.wait(time.Minute)
	if l := w.load(); l.Err != nil || l.Revision != c2 {
		t.Fatalf("the triggered fetch: %s, %v; want %s", l.Revision, l.Err, c2)
	}
	w.wait(time.Minute)
	w.stop()
	select {
	case e := <-w.events:
		t.Errorf("after one more fetch the source went on: %+v", e)
	default:
	}
	if fired(tr) {
		t.Error("a fetch is still pending")
	}
}

// TestWebhookFetchesNow: a source that fetches once an hour serves a push
// as soon as GitHub or GitLab calls the webhook.
func TestWebhookFetchesNow(t *testing.T) {
	t.Parallel()
	repo := gittest.New(t)
	files1 := edgeRepo(map[string]string{"a": "1s"})
	commitFiles(repo, "", files1)
	tr := &Trigger{}
	src := Git{URL: "file://" + repo.Dir, Interval: time.Hour, CacheDir: t.TempDir(), Trigger: tr}
	s := startServer(t, Options{Webhook: Webhook{Secret: hookSecret, Trigger: tr}}, src)
	want1 := digest(compileFiles(t, files1), "edge")
	eventually(t, "the first commit", func() bool { return s.servedVersion(t, "edge") == want1 })

	files2 := edgeRepo(map[string]string{"a": "2s"})
	commitFiles(repo, "", files2)
	const body = `{"ref":"refs/heads/main"}`
	if code := s.post(t, WebhookPath, body, map[string]string{"X-Hub-Signature-256": githubSignature(hookSecret, body)}); code != http.StatusAccepted {
		t.Fatalf("GitHub's call: %d", code)
	}
	want2 := digest(compileFiles(t, files2), "edge")
	eventually(t, "the commit GitHub announced", func() bool { return s.servedVersion(t, "edge") == want2 })

	files3 := edgeRepo(map[string]string{"a": "3s"})
	commitFiles(repo, "", files3)
	if code := s.post(t, WebhookPath, body, map[string]string{"X-Gitlab-Token": hookSecret}); code != http.StatusAccepted {
		t.Fatalf("GitLab's call: %d", code)
	}
	want3 := digest(compileFiles(t, files3), "edge")
	eventually(t, "the commit GitLab announced", func() bool { return s.servedVersion(t, "edge") == want3 })
}
