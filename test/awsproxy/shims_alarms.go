package awsproxy

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// Shims for CloudWatch alarm and KMS key-state behaviour moto 5.2.1 lacks,
// on the CloudWatch query (XML) and KMS JSON protocols the pinned SDK speaks.

// ShimAlarmsForMetricDimensions makes DescribeAlarmsForMetric select alarms
// by the metric's dimensions, as AWS does. CloudWatch identifies a metric by
// namespace, name and dimensions together, and the API reference says of
// DescribeAlarmsForMetric's Dimensions: "The dimensions associated with the
// metric. If the metric has any associated dimensions, you must specify
// them in order for the call to succeed." A call without Dimensions
// therefore returns only the alarms on the dimensionless metric (reported
// against AWS in aws/aws-sdk-ruby#1008 and inspec/inspec-aws#37: alarms on
// dimensioned metrics are not found without their dimensions). moto 5.2.1
// ignores Dimensions and returns every alarm with that name and namespace.
// The hook drops the alarms whose dimension set differs from the request's.
func (p *Proxy) ShimAlarmsForMetricDimensions() {
	p.Handle(ServiceCloudWatch, "DescribeAlarmsForMetric", func(req *Request, next Next) (*Response, error) {
		resp, err := next()
		if err != nil || resp.StatusCode != http.StatusOK || req.Form == nil {
			return resp, err
		}
		want := map[string]string{}
		for i := 1; ; i++ {
			name, ok := req.Form["Dimensions.member."+strconv.Itoa(i)+".Name"]
			if !ok || len(name) == 0 {
				break
			}
			want[name[0]] = req.Form.Get("Dimensions.member." + strconv.Itoa(i) + ".Value")
		}
		body, err := rewriteAlarmMembers(resp.Body, func(a alarmXML) ([]byte, bool) {
			return nil, maps.Equal(a.dimensions(), want)
		})
		if err != nil {
			return nil, fmt.Errorf("shim DescribeAlarmsForMetric: %w", err)
		}
		resp.Body = body
		return resp, nil
	})
}

// ShimInitialAlarmState reports a newly created alarm as INSUFFICIENT_DATA,
// as AWS does ("When this operation creates an alarm, the alarm state is
// immediately set to INSUFFICIENT_DATA", CloudWatch API reference,
// PutMetricAlarm). moto 5.2.1 reports it as OK with the StateReason
// "Unchecked: Initial alarm creation"; only that exact state is rewritten,
// so a state set with SetAlarmState is reported as set.
func (p *Proxy) ShimInitialAlarmState() {
	const initial = "Unchecked: Initial alarm creation"
	hook := func(_ *Request, next Next) (*Response, error) {
		resp, err := next()
		if err != nil || resp.StatusCode != http.StatusOK {
			return resp, err
		}
		body, err := rewriteAlarmMembers(resp.Body, func(a alarmXML) ([]byte, bool) {
			if a.StateValue != "OK" || a.StateReason != initial {
				return nil, true
			}
			return bytes.Replace(a.raw, []byte("<StateValue>OK</StateValue>"), []byte("<StateValue>INSUFFICIENT_DATA</StateValue>"), 1), true
		})
		if err != nil {
			return nil, fmt.Errorf("shim initial alarm state: %w", err)
		}
		resp.Body = body
		return resp, nil
	}
	p.Handle(ServiceCloudWatch, "DescribeAlarms", hook)
	p.Handle(ServiceCloudWatch, "DescribeAlarmsForMetric", hook)
}

// ShimKeyStates makes moto 5.2.1 answer the KMS key-state operations as
// AWS does. Two gaps:
//   - moto looks the KeyId of DisableKey, EnableKey, ScheduleKeyDeletion and
//     CancelKeyDeletion up as a bare key id and answers a key ARN with HTTP
//     500, where AWS takes "the key ID or key ARN of the KMS key" (AWS KMS
//     API reference, KeyId of each). The shim forwards the key id of an ARN.
//   - moto performs CancelKeyDeletion and EnableKey in any key state (its
//     CancelKeyDeletion disables an enabled key, its EnableKey enables a key
//     pending deletion). AWS (AWS KMS Developer Guide, "Key states of AWS KMS
//     keys"): CancelKeyDeletion succeeds only on a key pending deletion and
//     otherwise fails with "KMSInvalidStateException: <key ARN> is not
//     pending deletion."; EnableKey fails on a key pending deletion or
//     import. The shim reads the state with DescribeKey, directly from
//     moto, and answers those errors itself.
func (p *Proxy) ShimKeyStates() {
	for _, op := range []string{"DisableKey", "EnableKey", "ScheduleKeyDeletion", "CancelKeyDeletion"} {
		p.Handle(ServiceKMS, op, func(req *Request, next Next) (*Response, error) {
			var in map[string]any
			if err := json.Unmarshal(req.Body, &in); err != nil {
				return next()
			}
			id, _ := in["KeyId"].(string)
			if _, keyID, ok := strings.Cut(id, ":key/"); ok && strings.HasPrefix(id, "arn:") {
				in["KeyId"], id = keyID, keyID
				body, err := json.Marshal(in)
				if err != nil {
					return nil, fmt.Errorf("shim %s: %w", req.Operation, err)
				}
				req.Body = body
			}
			if req.Operation != "CancelKeyDeletion" && req.Operation != "EnableKey" || id == "" {
				return next()
			}
			cfg := aws.Config{Region: req.Region, BaseEndpoint: aws.String(p.Target()),
				Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
			out, err := kms.NewFromConfig(cfg).DescribeKey(req.HTTP.Context(), &kms.DescribeKeyInput{KeyId: aws.String(id)})
			if err != nil || out.KeyMetadata == nil {
				return next() // moto answers NotFoundException and the like itself
			}
			arn, state := aws.ToString(out.KeyMetadata.Arn), out.KeyMetadata.KeyState
			switch {
			case req.Operation == "CancelKeyDeletion" && state != kmstypes.KeyStatePendingDeletion:
				return ErrorResponse(req, http.StatusBadRequest, "KMSInvalidStateException", arn+" is not pending deletion."), nil
			case req.Operation == "EnableKey" && state == kmstypes.KeyStatePendingDeletion:
				return ErrorResponse(req, http.StatusBadRequest, "KMSInvalidStateException", arn+" is pending deletion."), nil
			case req.Operation == "EnableKey" && state == kmstypes.KeyStatePendingImport:
				return ErrorResponse(req, http.StatusBadRequest, "KMSInvalidStateException", arn+" is pending import."), nil
			}
			return next()
		})
	}
}

// alarmXML is the part of a MetricAlarms member the shims read; raw is the
// member's bytes as sent.
type alarmXML struct {
	AlarmName   string
	StateValue  string
	StateReason string
	Dimensions  struct {
		Member []struct{ Name, Value string } `xml:"member"`
	}
	raw []byte
}

func (a alarmXML) dimensions() map[string]string {
	out := map[string]string{}
	for _, d := range a.Dimensions.Member {
		out[d.Name] = d.Value
	}
	return out
}

// rewriteAlarmMembers passes each <member> directly under a <MetricAlarms>
// element of body to fn, which returns the replacement bytes (nil: keep as
// is) and whether to keep the member at all. Everything else in body is
// copied unchanged.
func rewriteAlarmMembers(body []byte, fn func(alarmXML) ([]byte, bool)) ([]byte, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var (
		out   bytes.Buffer
		stack []string
		last  int64 // body[:last] is already written to out
		start int64 = -1
	)
	for {
		before := dec.InputOffset()
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if el.Name.Local == "member" && len(stack) > 0 && stack[len(stack)-1] == "MetricAlarms" && start < 0 {
				start = before
			}
			stack = append(stack, el.Name.Local)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if el.Name.Local != "member" || start < 0 || len(stack) == 0 || stack[len(stack)-1] != "MetricAlarms" {
				continue
			}
			end := dec.InputOffset()
			raw := body[start:end]
			var a alarmXML
			if err := xml.Unmarshal(raw, &a); err != nil {
				return nil, fmt.Errorf("decode alarm member: %w", err)
			}
			a.raw = raw
			out.Write(body[last:start])
			if repl, keep := fn(a); keep {
				if repl == nil {
					repl = raw
				}
				out.Write(repl)
			}
			last, start = end, -1
		}
	}
	out.Write(body[last:])
	return out.Bytes(), nil
}
