// Package awsproxy is a reverse proxy for tests that sits in front of
// moto_server (or any AWS endpoint) and knows, for every request, which
// service, operation and region it is for.
//
// That lets tests and benchmarks count API calls by operation and region,
// add a fixed latency to every call (wall time divided by that latency is
// the number of sequential round trips), intercept chosen operations with
// hooks (the moto shims in shims.go emulate AWS behaviour moto lacks), and
// inject faults encoded exactly as each AWS protocol encodes them
// (faults.go), on a seeded, reproducible schedule.
//
// Point SDK clients at Proxy.URL with moto.Config(proxy.URL, region).
package awsproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Signing names of the services Watchkeeper calls, as they appear in the
// SigV4 credential scope (and so in Call.Service).
const (
	ServiceCloudTrail = "cloudtrail"
	ServiceLogs       = "logs"
	ServiceCloudWatch = "monitoring"
	ServiceSNS        = "sns"
	ServiceSTS        = "sts"
	ServiceEC2        = "ec2"
	ServiceKMS        = "kms"
)

// Protocol is the wire protocol of a request, which decides how errors are
// encoded.
type Protocol string

const (
	// ProtocolJSON is awsJson1.0/1.1: X-Amz-Target names the operation
	// (CloudTrail, CloudWatch Logs, KMS).
	ProtocolJSON Protocol = "json"
	// ProtocolQuery is awsQuery: a form body with Action= (CloudWatch up to
	// SDK v1.52.x, SNS, STS).
	ProtocolQuery Protocol = "query"
	// ProtocolEC2 is ec2Query: awsQuery requests with a different error shape.
	ProtocolEC2 Protocol = "ec2"
	// ProtocolCBOR is Smithy RPC v2 CBOR, which newer CloudWatch SDKs use
	// (moto 5.2.1 cannot decode it, hence the pinned CloudWatch SDK). Calls
	// are identified and counted; injected errors are not encoded for it.
	ProtocolCBOR Protocol = "rpc-v2-cbor"
)

// Call identifies an API call.
type Call struct {
	Service   string // SigV4 signing name, e.g. "logs", "monitoring"
	Operation string // e.g. "PutMetricFilter"
	Region    string // e.g. "us-east-1"
}

func (c Call) String() string { return c.Service + ":" + c.Operation + "@" + c.Region }

// Request is one intercepted request, body already read.
type Request struct {
	Call
	Protocol Protocol
	HTTP     *http.Request
	Body     []byte
	// Form is the parsed body of a query-protocol request (nil otherwise).
	Form url.Values
}

// Response is a response to write back to the client.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Next passes a request on: to the next hook, or to the target.
type Next func() (*Response, error)

// HookFunc intercepts a call: it may answer it itself, call next and
// rewrite the answer, or just return next().
type HookFunc func(req *Request, next Next) (*Response, error)

// ErrReset, returned by a hook, makes the proxy reset the client's
// connection instead of answering.
var ErrReset = errors.New("awsproxy: reset the connection")

type hook struct {
	service, operation string
	fn                 HookFunc
}

// Proxy is a running proxy. Its methods are safe for concurrent use.
type Proxy struct {
	// URL is the proxy's endpoint, e.g. "http://127.0.0.1:41234".
	URL    string
	target *url.URL
	srv    *httptest.Server
	client *http.Client

	mu          sync.Mutex
	counts      map[Call]int
	log         []Call
	inFlight    int
	maxInFlight int
	latency     time.Duration
	hooks       []hook
	faults      faultState
	pending     map[string]bool // "protocol:endpoint" shown as unconfirmed
	pendingOnce sync.Once
	upsertMu    sync.Mutex // see ShimMetricFilterUpsert
}

// New starts a proxy in front of target (e.g. moto's URL). Close it when
// done.
func New(target string) *Proxy {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		panic(fmt.Sprintf("awsproxy: bad target URL %q", target))
	}
	p := &Proxy{
		target: u,
		client: &http.Client{
			Timeout: 60 * time.Second,
			// Never follow redirects: the client must see them.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		counts: map[Call]int{},
	}
	p.faults.init(1)
	p.srv = httptest.NewServer(p)
	p.URL = p.srv.URL
	return p
}

// Target returns the URL the proxy forwards to.
func (p *Proxy) Target() string { return p.target.String() }

// Close stops the proxy.
func (p *Proxy) Close() { p.srv.Close() }

// Counts returns a snapshot of the number of calls seen, by call. Calls
// answered by a hook or a fault count too: the client made them.
func (p *Proxy) Counts() map[Call]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Call]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// Calls returns every call seen since the last Reset, in arrival order
// (e.g. to assert that a run made no write calls).
func (p *Proxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.log...)
}

// ByOperation returns the calls seen by "service:Operation", all regions
// together, for benchmark reports.
func (p *Proxy) ByOperation() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.counts {
		out[k.Service+":"+k.Operation] += v
	}
	return out
}

// Total returns the number of calls seen.
func (p *Proxy) Total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, v := range p.counts {
		n += v
	}
	return n
}

// MaxInFlight returns the largest number of calls in progress at once.
func (p *Proxy) MaxInFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxInFlight
}

// Reset zeroes the counters (counts, max in flight, faults injected). It
// keeps hooks, faults and latency.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts = map[Call]int{}
	p.log = nil
	p.maxInFlight = p.inFlight
	p.faults.resetCounters()
}

// SetLatency adds d before every call is handled (0 removes it).
func (p *Proxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency = d
}

// Handle registers fn for calls of service and operation ("" matches any).
// Hooks run in registration order, the first registered outermost; faults
// run before every hook.
func (p *Proxy) Handle(service, operation string, fn HookFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hooks = append(p.hooks, hook{service: service, operation: operation, fn: fn})
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "awsproxy: read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	req := identify(r, body)

	p.mu.Lock()
	p.counts[req.Call]++
	p.log = append(p.log, req.Call)
	seq := p.counts[req.Call]
	p.inFlight++
	p.maxInFlight = max(p.maxInFlight, p.inFlight)
	latency := p.latency
	hooks := make([]hook, 0, len(p.hooks))
	for _, h := range p.hooks {
		if (h.service == "" || h.service == req.Service) && (h.operation == "" || h.operation == req.Operation) {
			hooks = append(hooks, h)
		}
	}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
	}()

	if latency > 0 && !sleep(r.Context(), latency) {
		return
	}

	// Chain: faults, then hooks in order, then the target.
	next := func() (*Response, error) { return p.forward(r.Context(), req) }
	for i := len(hooks) - 1; i >= 0; i-- {
		fn, inner := hooks[i].fn, next
		next = func() (*Response, error) { return fn(req, inner) }
	}
	resp, err := p.injectFault(req, seq, next)
	switch {
	case errors.Is(err, ErrReset):
		resetConnection(w)
		return
	case err != nil:
		http.Error(w, "awsproxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(resp.Body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(resp.Body)
}

// forward sends req to the target and returns the answer; hooks that need
// moto's answer use next instead, which also runs later hooks.
func (p *Proxy) forward(ctx context.Context, req *Request) (*Response, error) {
	u := *p.target
	u.Path = req.HTTP.URL.Path
	u.RawQuery = req.HTTP.URL.RawQuery
	out, err := http.NewRequestWithContext(ctx, req.HTTP.Method, u.String(), bytes.NewReader(req.Body))
	if err != nil {
		return nil, fmt.Errorf("build forwarded request: %w", err)
	}
	out.Header = req.HTTP.Header.Clone()
	// Let the transport negotiate (and transparently undo) compression, so
	// hooks always see plain bodies.
	out.Header.Del("Accept-Encoding")
	resp, err := p.client.Do(out)
	if err != nil {
		return nil, fmt.Errorf("forward %s: %w", req.Call, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read answer to %s: %w", req.Call, err)
	}
	h := resp.Header.Clone()
	h.Del("Content-Length")
	return &Response{StatusCode: resp.StatusCode, Header: h, Body: b}, nil
}

// identify works out service, region (from the SigV4 credential scope) and
// operation (X-Amz-Target for awsJson, Action= for awsQuery).
func identify(r *http.Request, body []byte) *Request {
	req := &Request{HTTP: r, Body: body, Protocol: ProtocolQuery}
	// Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/logs/aws4_request, SignedHeaders=..., Signature=...
	if auth := r.Header.Get("Authorization"); auth != "" {
		if _, after, ok := strings.Cut(auth, "Credential="); ok {
			scope, _, _ := strings.Cut(after, ",")
			if parts := strings.Split(strings.TrimSpace(scope), "/"); len(parts) == 5 {
				req.Region, req.Service = parts[2], parts[3]
			}
		}
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		req.Protocol = ProtocolJSON
		req.Operation = t[strings.LastIndex(t, ".")+1:]
		return req
	}
	// Smithy RPC v2 CBOR (newer CloudWatch SDKs):
	// POST /service/GraniteServiceVersion20100801/operation/PutMetricAlarm.
	if _, op, ok := strings.Cut(r.URL.Path, "/operation/"); ok && r.Header.Get("Smithy-Protocol") != "" {
		req.Protocol = ProtocolCBOR
		req.Operation = op
		return req
	}
	if form, err := url.ParseQuery(string(body)); err == nil {
		req.Form = form
		req.Operation = form.Get("Action")
	}
	if req.Operation == "" {
		req.Operation = r.URL.Query().Get("Action")
	}
	if req.Service == ServiceEC2 {
		req.Protocol = ProtocolEC2
	}
	return req
}

// sleep waits d or until ctx ends; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// resetConnection closes the client's connection with a TCP RST (linger 0),
// as a load balancer dropping a connection does.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("awsproxy: response writer cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
