// Package e2e runs the real Lambda bootstrap as a process under the Lambda
// Runtime API stand-in (test/lambdart), against moto_server behind a
// request-classifying proxy, and asserts the account's state through the
// AWS API.
package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/watchkeeper/watchkeeper/test/lambdart"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

var (
	motoSrv   *moto.Server
	proxy     *callProxy
	bootstrap string
)

func TestMain(m *testing.M) {
	os.Exit(lambdart.Main("e2e", func(b string, srv *moto.Server) int {
		bootstrap, motoSrv = b, srv
		proxy = newCallProxy(motoSrv.URL)
		defer proxy.Close()
		return m.Run()
	}))
}

// call is one AWS API call seen by the proxy.
type call struct{ Service, Operation string }

func (c call) String() string { return c.Service + ":" + c.Operation }

// readOnly reports whether the call cannot change resources. sns:Publish
// sends a notification and changes no resource, so it counts as read-only
// here; so do Security Hub's calls, which store the run's findings: they
// are the report, imported in report mode too (README, "Security Hub
// findings"), and change no monitoring resource. Tests that must see no
// call at all check for zero calls instead.
func (c call) readOnly() bool {
	if c.Service == "securityhub" {
		return true
	}
	for _, p := range []string{"Describe", "List", "Get", "Lookup", "Publish"} {
		if strings.HasPrefix(c.Operation, p) {
			return true
		}
	}
	return false
}

// callProxy forwards to moto and records every call the bootstrap makes.
// Operations are read as each protocol carries them: the X-Amz-Target
// header (JSON protocols: CloudTrail, CloudWatch Logs) or the Action form
// field (query protocol: SNS, CloudWatch, STS, EC2).
type callProxy struct {
	*httptest.Server
	mu    sync.Mutex
	calls []call
}

func newCallProxy(target string) *callProxy {
	u, err := url.Parse(target)
	if err != nil {
		panic(err)
	}
	p := &callProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		p.record(r, body)
		rp.ServeHTTP(w, r)
	}))
	return p
}

func (p *callProxy) record(r *http.Request, body []byte) {
	c := call{Service: service(r.Header.Get("Authorization"))}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		_, c.Operation, _ = strings.Cut(t, ".")
	} else if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
		c.Operation = v.Get("Action")
	} else {
		c.Operation = r.Method + " " + r.URL.Path
	}
	p.mu.Lock()
	p.calls = append(p.calls, c)
	p.mu.Unlock()
}

// service reads the signing name from the SigV4 credential scope.
func service(auth string) string {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "unsigned"
	}
	scope, _, _ := strings.Cut(rest, ",")
	parts := strings.Split(scope, "/")
	if len(parts) < 4 {
		return "unknown"
	}
	return parts[3]
}

// mark returns a function that lists the calls made since mark was called.
func (p *callProxy) mark() func() []call {
	p.mu.Lock()
	n := len(p.calls)
	p.mu.Unlock()
	return func() []call {
		p.mu.Lock()
		defer p.mu.Unlock()
		return append([]call(nil), p.calls[n:]...)
	}
}
