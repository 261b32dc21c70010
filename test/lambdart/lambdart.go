// Package lambdart is a stand-in for the AWS Lambda Runtime API, so tests,
// the demo and benchmarks can run the real bootstrap binary as Lambda would:
// the process polls GET /2018-06-01/runtime/invocation/next, receives one
// event with its request id, deadline, function ARN and trace id in the
// Lambda-Runtime-* headers, and answers with POST .../invocation/{id}/response
// or .../invocation/{id}/error (both answered 202 Accepted); a runtime that
// cannot start reports POST /2018-06-01/runtime/init/error. Source: AWS
// Lambda developer guide, "Using the Lambda runtime API for custom runtimes"
// (API version 2018-06-01).
//
// As in Lambda, events are delivered one at a time: Invoke blocks until the
// runtime has asked for the next event and answered this one.
package lambdart

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// API paths (version 2018-06-01).
const (
	prefix        = "/2018-06-01/runtime/"
	pathNext      = prefix + "invocation/next"
	pathInitError = prefix + "init/error"
)

// Lambda-Runtime-* headers of the next-invocation response.
const (
	HeaderRequestID   = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMs  = "Lambda-Runtime-Deadline-Ms"
	HeaderFunctionARN = "Lambda-Runtime-Invoked-Function-Arn"
	HeaderTraceID     = "Lambda-Runtime-Trace-Id"
	HeaderErrorType   = "Lambda-Runtime-Function-Error-Type"
)

// maxPayload mirrors Lambda's 6 MB limit on a synchronous invocation's
// request and response.
const maxPayload = 6 << 20

// ErrorPayload is what a runtime posts to an error endpoint.
type ErrorPayload struct {
	ErrorMessage string          `json:"errorMessage"`
	ErrorType    string          `json:"errorType"`
	StackTrace   json.RawMessage `json:"stackTrace,omitempty"`
	// HeaderType is the Lambda-Runtime-Function-Error-Type header, if sent.
	HeaderType string `json:"-"`
}

func (e *ErrorPayload) Error() string { return e.ErrorType + ": " + e.ErrorMessage }

// Request is one invocation.
type Request struct {
	Payload []byte
	// Timeout sets the Lambda-Runtime-Deadline-Ms header to now+Timeout;
	// zero means Server.Timeout.
	Timeout time.Duration
	// RequestID is generated when empty.
	RequestID string
}

// Result is the runtime's answer.
type Result struct {
	RequestID string
	// Response is the body posted to /response (nil after an error).
	Response []byte
	// Error is set when the runtime posted to /error.
	Error *ErrorPayload
	// Delivered is when the event went out in a next response; Answered when
	// the response or error arrived. Their difference is the time the
	// runtime spent on the invocation, as Lambda would bill it.
	Delivered, Answered time.Time
}

// Duration is Answered - Delivered.
func (r Result) Duration() time.Duration { return r.Answered.Sub(r.Delivered) }

type invocation struct {
	req       Request
	deadline  time.Time
	delivered time.Time
	done      chan Result
	once      sync.Once
}

func (inv *invocation) finish(r Result) { inv.once.Do(func() { inv.done <- r }) }

// Server is a running stand-in on a loopback port.
type Server struct {
	// FunctionARN is sent in Lambda-Runtime-Invoked-Function-Arn.
	FunctionARN string
	// Timeout is the default invocation timeout (the function's configured
	// timeout); default 60 s.
	Timeout time.Duration

	httpSrv  *http.Server
	listener net.Listener
	queue    chan *invocation

	mu        sync.Mutex
	inflight  map[string]*invocation
	firstNext time.Time
	ready     chan struct{}
	initErr   *ErrorPayload
	initDone  chan struct{}
	nexts     atomic.Int64
	seq       atomic.Int64
}

// Start listens on 127.0.0.1 on a free port. Call Close when done.
func Start() (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s := &Server{
		FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:watchkeeper-remediator",
		Timeout:     60 * time.Second,
		listener:    l,
		queue:       make(chan *invocation),
		inflight:    map[string]*invocation{},
		ready:       make(chan struct{}),
		initDone:    make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pathNext, s.next)
	mux.HandleFunc("POST "+prefix+"invocation/{id}/response", s.response)
	mux.HandleFunc("POST "+prefix+"invocation/{id}/error", s.invokeError)
	mux.HandleFunc("POST "+pathInitError, s.initError)
	s.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.httpSrv.Serve(l) }()
	return s, nil
}

// Addr is the value for AWS_LAMBDA_RUNTIME_API ("127.0.0.1:PORT").
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Close stops the server; a runtime blocked in next sees its connection end.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.httpSrv.Shutdown(ctx)
	_ = s.httpSrv.Close()
}

// Ready is closed when the runtime first asks for an event: the end of its
// cold start (init).
func (s *Server) Ready() <-chan struct{} { return s.ready }

// FirstNext is when the runtime first called next (zero before).
func (s *Server) FirstNext() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstNext
}

// Nexts counts next requests received.
func (s *Server) Nexts() int64 { return s.nexts.Load() }

// InitError returns what the runtime posted to init/error, or nil.
func (s *Server) InitError() *ErrorPayload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.initErr
}

// Invoke delivers payload and returns the runtime's response body, or the
// error payload it posted. err is set when the invocation could not be
// completed (ctx ended, the runtime reported an init error).
func (s *Server) Invoke(ctx context.Context, payload []byte) ([]byte, *ErrorPayload, error) {
	r, err := s.Do(ctx, Request{Payload: payload})
	if err != nil {
		return nil, nil, err
	}
	return r.Response, r.Error, nil
}

// ErrRequestTooLarge is returned by Do for a payload over Lambda's 6 MB
// limit on a synchronous invocation's request (Lambda developer guide,
// "Lambda quotas"; Invoke answers RequestTooLargeException). An event
// source mapping never sends one: it stops a batch before the limit.
var ErrRequestTooLarge = errors.New("request payload exceeds 6 MB")

// Do is Invoke with options and timings.
func (s *Server) Do(ctx context.Context, req Request) (Result, error) {
	if len(req.Payload) > maxPayload {
		return Result{}, fmt.Errorf("%w: %d bytes", ErrRequestTooLarge, len(req.Payload))
	}
	if req.RequestID == "" {
		req.RequestID = fmt.Sprintf("8476a536-e9f4-11e8-9739-%012d", s.seq.Add(1))
	}
	if req.Timeout == 0 {
		req.Timeout = s.Timeout
	}
	// The deadline runs from delivery, as Lambda's timeout does; next sets it.
	inv := &invocation{req: req, done: make(chan Result, 1)}
	select {
	case s.queue <- inv:
	case <-s.initDone:
		return Result{}, fmt.Errorf("runtime reported an init error: %v", s.InitError())
	case <-ctx.Done():
		return Result{}, fmt.Errorf("waiting for the runtime to ask for an event: %w", ctx.Err())
	}
	select {
	case r := <-inv.done:
		return r, nil
	case <-s.initDone:
		return Result{}, fmt.Errorf("runtime reported an init error: %v", s.InitError())
	case <-ctx.Done():
		s.mu.Lock()
		delete(s.inflight, req.RequestID)
		s.mu.Unlock()
		return Result{}, fmt.Errorf("waiting for invocation %s to be answered: %w", req.RequestID, ctx.Err())
	}
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.nexts.Add(1)
	s.mu.Lock()
	if s.firstNext.IsZero() {
		s.firstNext = time.Now()
		close(s.ready)
	}
	s.mu.Unlock()
	var inv *invocation
	select {
	case inv = <-s.queue:
	case <-r.Context().Done():
		return
	}
	inv.delivered = time.Now()
	inv.deadline = inv.delivered.Add(inv.req.Timeout)
	s.mu.Lock()
	s.inflight[inv.req.RequestID] = inv
	s.mu.Unlock()
	h := w.Header()
	h.Set(HeaderRequestID, inv.req.RequestID)
	h.Set(HeaderDeadlineMs, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set(HeaderFunctionARN, s.FunctionARN)
	h.Set(HeaderTraceID, "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1")
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.req.Payload)
}

func (s *Server) take(w http.ResponseWriter, r *http.Request) (*invocation, []byte, bool) {
	id := r.PathValue("id")
	s.mu.Lock()
	inv, ok := s.inflight[id]
	delete(s.inflight, id)
	s.mu.Unlock()
	if !ok {
		http.Error(w, `{"errorMessage":"unknown or already answered request id","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
		return nil, nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil || len(body) > maxPayload {
		http.Error(w, `{"errorMessage":"payload too large or unreadable","errorType":"RequestEntityTooLarge"}`, http.StatusRequestEntityTooLarge)
		inv.finish(Result{RequestID: id, Error: &ErrorPayload{ErrorType: "Runtime.PayloadTooLarge", ErrorMessage: "response exceeds 6 MB"},
			Delivered: inv.delivered, Answered: time.Now()})
		return nil, nil, false
	}
	return inv, body, true
}

func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	inv, body, ok := s.take(w, r)
	if !ok {
		return
	}
	w.WriteHeader(http.StatusAccepted)
	inv.finish(Result{RequestID: inv.req.RequestID, Response: body, Delivered: inv.delivered, Answered: time.Now()})
}

func (s *Server) invokeError(w http.ResponseWriter, r *http.Request) {
	inv, body, ok := s.take(w, r)
	if !ok {
		return
	}
	w.WriteHeader(http.StatusAccepted)
	inv.finish(Result{RequestID: inv.req.RequestID, Error: parseError(body, r.Header.Get(HeaderErrorType)),
		Delivered: inv.delivered, Answered: time.Now()})
}

func (s *Server) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxPayload))
	s.mu.Lock()
	first := s.initErr == nil
	if first {
		s.initErr = parseError(body, r.Header.Get(HeaderErrorType))
	}
	s.mu.Unlock()
	if first {
		close(s.initDone)
	}
	w.WriteHeader(http.StatusAccepted)
}

func parseError(body []byte, headerType string) *ErrorPayload {
	e := &ErrorPayload{HeaderType: headerType}
	if err := json.Unmarshal(body, e); err != nil || (e.ErrorMessage == "" && e.ErrorType == "") {
		e.ErrorMessage = strings.TrimSpace(string(body))
		e.ErrorType = headerType
	}
	return e
}

// ErrNotReady is returned by WaitReady when ctx ends before the runtime
// asks for its first event.
var ErrNotReady = errors.New("runtime never asked for an event")

// WaitReady blocks until the runtime first calls next and returns when.
func (s *Server) WaitReady(ctx context.Context) (time.Time, error) {
	select {
	case <-s.ready:
		return s.FirstNext(), nil
	case <-s.initDone:
		return time.Time{}, fmt.Errorf("%w: init error %v", ErrNotReady, s.InitError())
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("%w: %w", ErrNotReady, ctx.Err())
	}
}
