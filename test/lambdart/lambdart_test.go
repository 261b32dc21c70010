package lambdart_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/watchkeeper/watchkeeper/test/lambdart"
)

func start(t *testing.T) *lambdart.Server {
	t.Helper()
	s, err := lambdart.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestProtocol drives the stand-in with a hand-written runtime client that
// follows the documented protocol step by step.
func TestProtocol(t *testing.T) {
	s := start(t)
	base := "http://" + s.Addr() + "/2018-06-01/runtime/"
	type got struct {
		body     []byte
		errP     *lambdart.ErrorPayload
		err      error
		duration time.Duration
	}
	results := make(chan got, 2)
	go func() {
		r, err := s.Do(t.Context(), lambdart.Request{Payload: []byte(`{"n":1}`), Timeout: 30 * time.Second})
		results <- got{r.Response, r.Error, err, r.Duration()}
		r, err = s.Do(t.Context(), lambdart.Request{Payload: []byte(`{"n":2}`)})
		results <- got{r.Response, r.Error, err, r.Duration()}
	}()

	next := func() (string, []byte, http.Header) {
		resp, err := http.Get(base + "invocation/next")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("next: HTTP %d", resp.StatusCode)
		}
		return resp.Header.Get(lambdart.HeaderRequestID), b.Bytes(), resp.Header
	}
	post := func(path string, body string, want int) {
		resp, err := http.Post(base+path, "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("POST %s: HTTP %d, want %d", path, resp.StatusCode, want)
		}
	}

	id, payload, h := next()
	if string(payload) != `{"n":1}` || id == "" || h.Get(lambdart.HeaderFunctionARN) == "" || h.Get(lambdart.HeaderTraceID) == "" {
		t.Fatalf("first event: id=%q payload=%s headers=%v", id, payload, h)
	}
	ms, err := strconv.ParseInt(h.Get(lambdart.HeaderDeadlineMs), 10, 64)
	if left := time.Until(time.UnixMilli(ms)); err != nil || left < 25*time.Second || left > 31*time.Second {
		t.Errorf("deadline header %q is %v away, want about 30s", h.Get(lambdart.HeaderDeadlineMs), left)
	}
	if s.FirstNext().IsZero() || s.Nexts() != 1 {
		t.Errorf("FirstNext=%v Nexts=%d", s.FirstNext(), s.Nexts())
	}
	post("invocation/"+id+"/response", `{"ok":true}`, http.StatusAccepted)
	post("invocation/"+id+"/response", `{"ok":true}`, http.StatusBadRequest) // answered twice
	r := <-results
	if r.err != nil || string(r.body) != `{"ok":true}` || r.errP != nil || r.duration <= 0 {
		t.Fatalf("first result: %+v", r)
	}

	id2, _, _ := next()
	if id2 == id {
		t.Fatal("request ids repeat")
	}
	post("invocation/"+id2+"/error", `{"errorMessage":"boom","errorType":"errorString"}`, http.StatusAccepted)
	r = <-results
	if r.err != nil || r.errP == nil || r.errP.ErrorMessage != "boom" || r.errP.ErrorType != "errorString" {
		t.Fatalf("second result: %+v", r)
	}
}

func TestInitErrorFailsInvoke(t *testing.T) {
	s := start(t)
	resp, err := http.Post("http://"+s.Addr()+"/2018-06-01/runtime/init/error", "application/json",
		bytes.NewBufferString(`{"errorMessage":"bad config","errorType":"Runtime.InitError"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("init/error: HTTP %d", resp.StatusCode)
	}
	if _, _, err := s.Invoke(t.Context(), []byte(`{}`)); err == nil {
		t.Fatal("Invoke succeeded after an init error")
	}
	if e := s.InitError(); e == nil || e.ErrorMessage != "bad config" {
		t.Errorf("InitError = %+v", e)
	}
}

// TestRealRuntime runs a real aws-lambda-go function under the stand-in.
func TestRealRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "echo")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./testdata/echo")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	s := start(t)
	cmd := exec.Command(bin)
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + s.Addr(), "PATH=" + os.Getenv("PATH")}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready, err := s.WaitReady(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cold start (process start to first next): %v", ready.Sub(started))

	body, errP, err := s.Invoke(t.Context(), []byte(`{"hello":"world"}`))
	if err != nil || errP != nil {
		t.Fatalf("Invoke: %v %+v", err, errP)
	}
	var out struct {
		Event       json.RawMessage
		RequestID   string
		FunctionARN string
		DeadlineIn  int64 `json:"deadlineInMs"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if string(out.Event) != `{"hello":"world"}` || out.RequestID == "" || out.FunctionARN != s.FunctionARN || out.DeadlineIn < 50_000 {
		t.Errorf("function saw %+v", out)
	}
	_, errP, err = s.Invoke(t.Context(), []byte(`{"fail":true}`))
	if err != nil || errP == nil || errP.ErrorMessage != "asked to fail" {
		t.Errorf("failing invoke: %v %+v", err, errP)
	}
}
