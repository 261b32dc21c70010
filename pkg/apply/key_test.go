package apply_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/apply"
	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// keyARN is the topic key of the key tests; its region, us-east-1, is where
// its calls must go.
const keyARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

func keyAction(kind plan.Kind, region string) plan.Action {
	return plan.Action{Kind: kind, Region: region, Target: keyARN, Controls: []string{"4.1"}, KMSKey: &plan.KeySpec{KeyARN: keyARN}}
}

// invalidState is the modelled error KMS returns for an operation the key
// state does not allow (AWS KMS developer guide, "Key states of AWS KMS
// keys", key state table).
func invalidState(msg string) error {
	return &smithy.OperationError{ServiceID: "KMS", OperationName: "Op", Err: &kmstypes.KMSInvalidStateException{Message: aws.String(msg)}}
}

// TestKeyActions: CancelKeyDeletion then EnableKey restore the topic key,
// in the key's region; "not pending deletion" counts as done, but a key
// state EnableKey cannot leave is a terminal failure; EnableKey waits for
// the CancelKeyDeletion of its key.
func TestKeyActions(t *testing.T) {
	denied := apiErr("AccessDeniedException", smithy.FaultClient)
	for _, tc := range []struct {
		name      string
		cancel    func(*kms.CancelKeyDeletionInput) error
		enable    func(*kms.EnableKeyInput) error
		actions   []plan.Action
		want      []apply.Status
		calls     []string
		cause     []error // per outcome: errors.Is target, nil for none
		retryable []bool
	}{
		{
			name:    "pending deletion: cancel, then enable, in the key's region",
			actions: []plan.Action{keyAction(plan.EnableKey, "eu-west-1"), keyAction(plan.CancelKeyDeletion, "eu-west-1")},
			want:    []apply.Status{apply.StatusApplied, apply.StatusApplied},
			calls:   []string{"CancelKeyDeletion@us-east-1", "EnableKey@us-east-1"},
		},
		{
			name:    "no longer pending deletion: cancel counts as done",
			cancel:  func(*kms.CancelKeyDeletionInput) error { return invalidState(keyARN + " is not pending deletion.") },
			actions: []plan.Action{keyAction(plan.CancelKeyDeletion, "us-east-1"), keyAction(plan.EnableKey, "us-east-1")},
			want:    []apply.Status{apply.StatusApplied, apply.StatusApplied},
			calls:   []string{"CancelKeyDeletion@us-east-1", "EnableKey@us-east-1"},
		},
		{
			name:      "cancel denied: enable is skipped, not attempted",
			cancel:    func(*kms.CancelKeyDeletionInput) error { return denied },
			actions:   []plan.Action{keyAction(plan.CancelKeyDeletion, "us-east-1"), keyAction(plan.EnableKey, "us-east-1")},
			want:      []apply.Status{apply.StatusFailed, apply.StatusSkipped},
			calls:     []string{"CancelKeyDeletion@us-east-1"},
			cause:     []error{denied, apply.ErrDependency},
			retryable: []bool{false, false},
		},
		{
			name: "cancel on a missing key fails",
			cancel: func(*kms.CancelKeyDeletionInput) error {
				return &kmstypes.NotFoundException{Message: aws.String("Key '" + keyARN + "' does not exist")}
			},
			actions:   []plan.Action{keyAction(plan.CancelKeyDeletion, "us-east-1")},
			want:      []apply.Status{apply.StatusFailed},
			calls:     []string{"CancelKeyDeletion@us-east-1"},
			retryable: []bool{false},
		},
		{
			name:      "enable on a key still pending deletion is a terminal failure",
			enable:    func(*kms.EnableKeyInput) error { return invalidState(keyARN + " is pending deletion.") },
			actions:   []plan.Action{keyAction(plan.EnableKey, "us-east-1")},
			want:      []apply.Status{apply.StatusFailed},
			calls:     []string{"EnableKey@us-east-1"},
			retryable: []bool{false},
		},
		{
			name: "KMS internal error is retryable",
			enable: func(*kms.EnableKeyInput) error {
				return &kmstypes.KMSInternalException{Message: aws.String("internal")}
			},
			actions:   []plan.Action{keyAction(plan.EnableKey, "us-east-1")},
			want:      []apply.Status{apply.StatusFailed},
			calls:     []string{"EnableKey@us-east-1"},
			retryable: []bool{true},
		},
		{
			name:    "enable alone (disabled key)",
			actions: []plan.Action{keyAction(plan.EnableKey, "us-east-1")},
			want:    []apply.Status{apply.StatusApplied},
			calls:   []string{"EnableKey@us-east-1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clients, rec := fakes(fake{cancelKeyDeletion: tc.cancel, enableKey: tc.enable})
			res, _ := apply.Run(t.Context(), tc.actions, apply.Options{Clients: clients, OwnedPrefix: "watchkeeper-"})
			if diff := cmp.Diff(tc.want, statuses(res)); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.calls, rec.snapshot()); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			for i, o := range res.Outcomes {
				if o.Status == apply.StatusApplied {
					if o.Err != nil {
						t.Errorf("outcome %d applied with Err %v", i, o.Err)
					}
					continue
				}
				var ae *apply.ActionError
				if !errors.As(o.Err, &ae) {
					t.Errorf("outcome %d: Err = %v, want an *ActionError", i, o.Err)
					continue
				}
				if i < len(tc.cause) && tc.cause[i] != nil && !errors.Is(o.Err, tc.cause[i]) {
					t.Errorf("outcome %d: Err = %v, want it to wrap %v", i, o.Err, tc.cause[i])
				}
				if i < len(tc.retryable) && ae.Retryable() != tc.retryable[i] {
					t.Errorf("outcome %d: Retryable() = %v, want %v (%v)", i, ae.Retryable(), tc.retryable[i], o.Err)
				}
				if o.Status == apply.StatusFailed && !strings.Contains(o.Err.Error(), keyARN) {
					t.Errorf("outcome %d: error %q does not name the key", i, o.Err)
				}
			}
		})
	}
}

// TestKeyActionsClassifyTheWireError runs a real KMS client against canned
// awsJson1.1 responses in the shape KMS sends them (a __type member and the
// X-Amzn-ErrorType header; the messages are the key state table's), so the
// typed-error classification is proven on the SDK's own deserializer, not
// on a hand-built error.
func TestKeyActionsClassifyTheWireError(t *testing.T) {
	var mu sync.Mutex
	var targets []string
	// respond answers as KMS does for one key whose state starts as state,
	// following the key state table: CancelKeyDeletion leaves a key pending
	// deletion Disabled, EnableKey enables an Enabled or Disabled key.
	respond := func(state string) smithyhttp.ClientDo {
		return smithyhttp.ClientDoFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			defer mu.Unlock()
			targets = append(targets, r.Header.Get("X-Amz-Target")+"@"+r.URL.Host)
			var body string
			status := http.StatusOK
			switch op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "TrentService."); {
			case op == "CancelKeyDeletion" && state != "PendingDeletion":
				status, body = http.StatusBadRequest, `{"__type":"KMSInvalidStateException","message":"`+keyARN+` is not pending deletion."}`
			case op == "EnableKey" && state == "PendingDeletion":
				status, body = http.StatusBadRequest, `{"__type":"KMSInvalidStateException","message":"`+keyARN+` is pending deletion."}`
			case op == "CancelKeyDeletion":
				state, body = "Disabled", `{"KeyId":"`+keyARN+`"}`
			default:
				state, body = "Enabled", `{}`
			}
			h := http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amzn-Requestid": {"r1"}}
			if status != http.StatusOK {
				h.Set("X-Amzn-Errortype", "KMSInvalidStateException")
			}
			return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewBufferString(body)), Request: r}, nil
		})
	}
	clientsFor := func(state string) func(string) apply.Clients {
		return func(region string) apply.Clients {
			return apply.Clients{KMS: kms.New(kms.Options{Region: region, Credentials: aws.AnonymousCredentials{}, HTTPClient: respond(state)})}
		}
	}
	both := []plan.Action{keyAction(plan.CancelKeyDeletion, "us-east-1"), keyAction(plan.EnableKey, "us-east-1")}
	for _, tc := range []struct {
		state   string
		actions []plan.Action
		want    []apply.Status
	}{
		{"PendingDeletion", both, []apply.Status{apply.StatusApplied, apply.StatusApplied}},
		{"Enabled", both, []apply.Status{apply.StatusApplied, apply.StatusApplied}},
		{"Disabled", both, []apply.Status{apply.StatusApplied, apply.StatusApplied}},
		// Only EnableKey planned while the key is (again) pending deletion.
		{"PendingDeletion", both[1:], []apply.Status{apply.StatusFailed}},
	} {
		t.Run(tc.state, func(t *testing.T) {
			targets = nil
			res, err := apply.Run(t.Context(), tc.actions, apply.Options{Clients: clientsFor(tc.state)})
			if diff := cmp.Diff(tc.want, statuses(res)); diff != "" {
				t.Errorf("statuses (-want +got):\n%s (err %v)", diff, err)
			}
			if slices.Contains(tc.want, apply.StatusFailed) {
				var invalid *kmstypes.KMSInvalidStateException
				if !errors.As(err, &invalid) || apply.Retryable(err) {
					t.Errorf("Run error = %v, want a terminal *KMSInvalidStateException", err)
				}
			}
			for _, target := range targets {
				if !strings.HasSuffix(target, "@kms.us-east-1.amazonaws.com") {
					t.Errorf("call %s not sent to the key's region", target)
				}
			}
		})
	}
}
