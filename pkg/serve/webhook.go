package serve

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Trigger asks a source to read its place now. Fired any number of times
// before the source gets to it, it makes one read: pushes that come while
// a fetch runs make one more fetch, not one each. The zero value is ready;
// a nil Trigger never fires.
type Trigger struct {
	once sync.Once
	c    chan struct{}
}

func (t *Trigger) ch() chan struct{} {
	t.once.Do(func() { t.c = make(chan struct{}, 1) })
	return t.c
}

// Fire asks for a read, unless one is asked for already.
func (t *Trigger) Fire() {
	if t == nil {
		return
	}
	select {
	case t.ch() <- struct{}{}:
	default:
	}
}

// C receives when a read is asked for.
func (t *Trigger) C() <-chan struct{} {
	if t == nil {
		return nil
	}
	return t.ch()
}

// Webhook is the endpoint a git host calls on each push, so that a git
// source fetches at once instead of at its next interval.
type Webhook struct {
	// Secret verifies each call: GitHub's X-Hub-Signature-256 (an
	// HMAC-SHA256 of the body) or GitLab's X-Gitlab-Token (the secret
	// itself). Empty means no endpoint.
	Secret Secret
	// Trigger is fired by each verified call.
	Trigger *Trigger
}

// WebhookPath is where the HTTP listener serves the webhook.
const WebhookPath = "/webhook"

// maxWebhookBody bounds a webhook's body: GitHub caps its payloads at
// 25 MB. The body is hashed as it is read, never held.
const maxWebhookBody = 25 << 20

// webhook serves POST /webhook: a call verified against the secret fires
// the trigger (202); one without a valid signature or token gets 401.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	sender, err := verifyWebhook(w, r, []byte(s.opts.Webhook.Secret))
	if err != nil {
		s.metrics.webhooks[webhookRefused].Inc()
		s.log.Warn("webhook refused", "remote", r.RemoteAddr, "error", err)
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	s.metrics.webhooks[webhookAccepted].Inc()
	s.log.Info("webhook: fetching now", "sender", sender, "event", event(r))
	s.opts.Webhook.Trigger.Fire()
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, "fetching\n")
}

// verifyWebhook checks a call's signature (GitHub) or token (GitLab)
// against secret, reading the body through, and names the sender.
func verifyWebhook(w http.ResponseWriter, r *http.Request, secret []byte) (string, error) {
	body := http.MaxBytesReader(w, r.Body, maxWebhookBody)
	if sig := r.Header.Get("X-Hub-Signature-256"); sig != "" {
		hexSum, ok := strings.CutPrefix(sig, "sha256=")
		got, err := hex.DecodeString(hexSum)
		if !ok || err != nil {
			return "", errors.New("malformed X-Hub-Signature-256: want sha256=HEX")
		}
		mac := hmac.New(sha256.New, secret)
		if _, err := io.Copy(mac, body); err != nil {
			return "", err
		}
		if !hmac.Equal(got, mac.Sum(nil)) {
			return "", errors.New("the X-Hub-Signature-256 does not match the body and the secret")
		}
		return "github", nil
	}
	if token, ok := r.Header["X-Gitlab-Token"]; ok {
		if _, err := io.Copy(io.Discard, body); err != nil {
			return "", err
		}
		// Hashing both sides first keeps the secret's length from
		// showing in the time the comparison takes.
		got, want := sha256.Sum256([]byte(strings.Join(token, ""))), sha256.Sum256(secret)
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			return "", errors.New("the X-Gitlab-Token is not the secret")
		}
		return "gitlab", nil
	}
	return "", errors.New("no X-Hub-Signature-256 (GitHub) or X-Gitlab-Token (GitLab) header")
}

// event is the kind of event a verified call tells of, for the log.
func event(r *http.Request) string {
	for _, h := range []string{"X-GitHub-Event", "X-Gitlab-Event"} {
		if v := r.Header.Get(h); v != "" {
			if len(v) > 64 {
				v = v[:64]
			}
			return v
		}
	}
	return ""
}
