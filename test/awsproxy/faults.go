package awsproxy

import (
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"net/http"
	"time"
)

// FaultKind is a failure AWS produces.
type FaultKind string

// Fault kinds. Error codes and HTTP statuses follow the AWS documentation of
// each service's common errors ("Common Errors" in the CloudTrail, CloudWatch
// Logs, CloudWatch, SNS, STS and EC2 API references).
const (
	// FaultThrottle is the service's throttling error: ThrottlingException
	// (awsJson, HTTP 400), Throttling (CloudWatch and STS awsQuery, HTTP
	// 400), RequestLimitExceeded (EC2, HTTP 503), and for SNS
	// ThrottlingException "Rate exceeded" on topic operations (AWS knowledge
	// center, "Resolve ThrottlingException and Rate exceeded errors in Amazon
	// SNS", which quotes it for Subscribe and Publish). The SNS model's
	// "Throttled" (HTTP 429) is modelled only for its SMS operations; inject
	// it with a hook and ErrorResponse if a test needs it.
	FaultThrottle FaultKind = "throttle"
	// FaultInternal is HTTP 500 InternalFailure (EC2: InternalError).
	FaultInternal FaultKind = "internal"
	// FaultUnavailable is HTTP 503 ServiceUnavailable (EC2: Unavailable).
	FaultUnavailable FaultKind = "unavailable"
	// FaultReset closes the connection with a TCP reset before answering.
	FaultReset FaultKind = "reset"
	// FaultSlow delays the call by Fault.Delay, then forwards it.
	FaultSlow FaultKind = "slow"
	// FaultAccessDenied is an IAM denial: AccessDeniedException (awsJson,
	// HTTP 400), AccessDenied (CloudWatch and STS, 403), AuthorizationError
	// (SNS, 403), UnauthorizedOperation (EC2, 403).
	FaultAccessDenied FaultKind = "access-denied"
	// FaultNotOptedIn is a call to an opt-in region the account has not
	// enabled: AWS does not recognise the credentials there, so the answer
	// is UnrecognizedClientException (awsJson, HTTP 400), InvalidClientTokenId
	// (awsQuery, 403) or AuthFailure (EC2, 401), each "The security token
	// included in the request is invalid." (AWS account management guide,
	// "Enable or disable AWS Regions in your account"; IAM troubleshooting).
	FaultNotOptedIn FaultKind = "not-opted-in"
)

// Fault is a rule that injects a failure into matching calls.
type Fault struct {
	// Service, Operation and Region select calls; "" matches any. A fault
	// with only Region set fails a whole region.
	Service, Operation, Region string
	Kind                       FaultKind
	// Probability is the chance that a matching call fails; 0 (or >= 1)
	// means every matching call. Decisions are a hash of the seed, the rule,
	// the call and its sequence number, so a schedule is reproducible.
	Probability float64
	// Times caps the number of injections; 0 means unlimited. Times: 1 with
	// a throttle makes a transient fault the SDK retries through.
	Times int
	// After lets the first After matching calls through untouched before
	// the rule may fire: a call that succeeds once and fails from then on,
	// such as a re-read after apply. 0 means from the first call.
	After int
	// Delay is FaultSlow's delay; 0 means 2 s.
	Delay time.Duration
	// Code and Status, if set, override the error code and HTTP status the
	// kind would use (e.g. SNS's modelled "Throttled" with 429, or
	// "TooManyRequestsException"); the protocol's encoding is kept.
	Code   string
	Status int
}

type faultRule struct {
	Fault
	injected int
	matched  int // calls matched so far, for After
}

type faultState struct {
	seed     uint64
	rules    []*faultRule
	injected map[Call]int
}

func (s *faultState) init(seed uint64) {
	s.seed = seed
	s.injected = map[Call]int{}
}

func (s *faultState) resetCounters() {
	s.injected = map[Call]int{}
	for _, r := range s.rules {
		r.injected, r.matched = 0, 0
	}
}

// Seed sets the seed of probabilistic faults (default 1) and restarts
// their schedule.
func (p *Proxy) Seed(seed uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults.seed = seed
	p.faults.resetCounters()
}

// Inject adds a fault rule. Rules are tried in order; the first that fires
// decides the call.
func (p *Proxy) Inject(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults.rules = append(p.faults.rules, &faultRule{Fault: f})
}

// ClearFaults removes every fault rule.
func (p *Proxy) ClearFaults() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults.rules = nil
}

// Injected returns how many faults were injected, by call.
func (p *Proxy) Injected() map[Call]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Call]int, len(p.faults.injected))
	for k, v := range p.faults.injected {
		out[k] = v
	}
	return out
}

// fires decides, reproducibly, whether rule i hits the seq-th call of c.
func (s *faultState) fires(i int, r *faultRule, c Call, seq int) bool {
	if r.Probability <= 0 || r.Probability >= 1 {
		return true
	}
	h := fnv.New64a()
	var b [8]byte
	for _, v := range []uint64{s.seed, uint64(i), uint64(seq)} {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	h.Write([]byte(c.String()))
	return float64(h.Sum64()>>11)/float64(1<<53) < r.Probability
}

// injectFault applies the first fault rule that fires for req, or calls next.
func (p *Proxy) injectFault(req *Request, seq int, next Next) (*Response, error) {
	p.mu.Lock()
	var hit *Fault
	for i, r := range p.faults.rules {
		if (r.Service != "" && r.Service != req.Service) ||
			(r.Operation != "" && r.Operation != req.Operation) ||
			(r.Region != "" && r.Region != req.Region) {
			continue
		}
		r.matched++
		if r.matched <= r.After ||
			(r.Times > 0 && r.injected >= r.Times) ||
			!p.faults.fires(i, r, req.Call, seq) {
			continue
		}
		r.injected++
		p.faults.injected[req.Call]++
		f := r.Fault
		hit = &f
		break
	}
	p.mu.Unlock()
	if hit == nil {
		return next()
	}
	switch hit.Kind {
	case FaultReset:
		return nil, ErrReset
	case FaultSlow:
		d := hit.Delay
		if d == 0 {
			d = 2 * time.Second
		}
		if !sleep(req.HTTP.Context(), d) {
			return nil, req.HTTP.Context().Err()
		}
		return next()
	}
	status, code, msg := faultError(hit.Kind, req)
	if hit.Code != "" {
		code = hit.Code
	}
	if hit.Status != 0 {
		status = hit.Status
	}
	return ErrorResponse(req, status, code, msg), nil
}

// faultError returns how req's service encodes kind.
func faultError(kind FaultKind, req *Request) (status int, code, msg string) {
	const badToken = "The security token included in the request is invalid."
	isJSON, ec2, sns := req.Protocol == ProtocolJSON, req.Protocol == ProtocolEC2, req.Service == ServiceSNS
	switch kind {
	case FaultThrottle:
		switch {
		case isJSON:
			return http.StatusBadRequest, "ThrottlingException", "Rate exceeded"
		case ec2:
			return http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded."
		case sns:
			return http.StatusBadRequest, "ThrottlingException", "Rate exceeded"
		}
		return http.StatusBadRequest, "Throttling", "Rate exceeded"
	case FaultInternal:
		if ec2 {
			return http.StatusInternalServerError, "InternalError", "An internal error has occurred."
		}
		return http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure."
	case FaultUnavailable:
		if ec2 {
			return http.StatusServiceUnavailable, "Unavailable", "The server is overloaded and can't handle the request."
		}
		return http.StatusServiceUnavailable, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
	case FaultAccessDenied:
		msg := fmt.Sprintf("User: arn:aws:iam::123456789012:user/test is not authorized to perform: %s:%s", req.Service, req.Operation)
		switch {
		case isJSON:
			return http.StatusBadRequest, "AccessDeniedException", msg
		case ec2:
			return http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation."
		case sns:
			return http.StatusForbidden, "AuthorizationError", msg
		}
		return http.StatusForbidden, "AccessDenied", msg
	case FaultNotOptedIn:
		switch {
		case isJSON:
			return http.StatusBadRequest, "UnrecognizedClientException", badToken
		case ec2:
			return http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials"
		}
		return http.StatusForbidden, "InvalidClientTokenId", badToken
	}
	panic(fmt.Sprintf("awsproxy: unknown fault kind %q", kind))
}

// ErrorResponse encodes an AWS error as req's protocol does, for hooks
// that answer with an error:
//   - awsJson: header X-Amzn-ErrorType and body {"__type": code, "message": msg};
//   - awsQuery: <ErrorResponse><Error><Type>Sender|Receiver</Type><Code>…;
//   - ec2Query: <Response><Errors><Error><Code>…</Code>…</Errors><RequestID>….
func ErrorResponse(req *Request, status int, code, msg string) *Response {
	const requestID = "00000000-0000-4000-8000-000000000000"
	h := http.Header{}
	h.Set("X-Amzn-Requestid", requestID)
	switch req.Protocol {
	case ProtocolJSON:
		h.Set("Content-Type", "application/x-amz-json-1.1")
		h.Set("X-Amzn-Errortype", code)
		b, _ := json.Marshal(map[string]string{"__type": code, "message": msg})
		return &Response{StatusCode: status, Header: h, Body: b}
	case ProtocolEC2:
		h.Set("Content-Type", "text/xml")
		type xmlErr struct {
			Code    string
			Message string
		}
		b, _ := xml.Marshal(struct {
			XMLName   xml.Name `xml:"Response"`
			Errors    []xmlErr `xml:"Errors>Error"`
			RequestID string
		}{Errors: []xmlErr{{code, msg}}, RequestID: requestID})
		return &Response{StatusCode: status, Header: h, Body: b}
	}
	h.Set("Content-Type", "text/xml")
	e := queryError{RequestID: requestID}
	e.Error.Type, e.Error.Code, e.Error.Message = "Sender", code, msg
	if status >= 500 {
		e.Error.Type = "Receiver"
	}
	b, _ := xml.Marshal(e)
	return &Response{StatusCode: status, Header: h, Body: b}
}

// queryError is the awsQuery error document.
type queryError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}
