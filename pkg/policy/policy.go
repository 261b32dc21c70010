package policy

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Request is one call by a service principal, as a resource-based policy
// sees it. Condition keys are compared case-insensitively ("Condition key
// names are not case-sensitive", IAM User Guide, "IAM JSON policy
// elements: Condition"). A key in neither Context nor Absent is unknown:
// a condition on it cannot be evaluated.
type Request struct {
	Service  string              // service principal, e.g. "cloudwatch.amazonaws.com"
	Action   string              // e.g. "sns:Publish"
	Resource string              // ARN of the topic or key
	Context  map[string][]string // keys known to be in the request context, with their values
	Absent   []string            // keys known not to be; "aws:PrincipalTag/*" covers every key with that prefix
}

// With returns a copy of r in which key is known to have the given values
// (and is no longer listed as absent).
func (r Request) With(key string, values ...string) Request {
	ctx := maps.Clone(r.Context)
	if ctx == nil {
		ctx = map[string][]string{}
	}
	maps.DeleteFunc(ctx, func(k string, _ []string) bool { return strings.EqualFold(k, key) })
	ctx[key] = slices.Clone(values)
	r.Context = ctx
	r.Absent = slices.DeleteFunc(slices.Clone(r.Absent), func(a string) bool { return strings.EqualFold(a, key) })
	return r
}

// Decision is the verdict of a resource-based policy on a Request. Denied
// and Allowed are never both true.
type Decision struct {
	Allowed         bool     // some Allow applies and no Deny does
	Denied          bool     // some explicit Deny applies, or may apply
	AllowStatements []string // Sid, or "statement N" (from 1), of each Allow that applies
	DenyStatements  []string // the same for each Deny that applies or may apply
	// Uncertain says, for each statement part that could not be evaluated,
	// what it was and how it was counted: a Deny as applying, an Allow as
	// not applying.
	Uncertain []string
}

// ErrRequest reports a Request that cannot be evaluated.
var ErrRequest = errors.New("invalid request")

// Evaluate judges document, a resource-based policy (an SNS topic access
// policy, a KMS key policy, ...), on one request by a service principal.
//
// Following "Policy evaluation logic" in the IAM User Guide, an explicit
// Deny that applies wins over any Allow, and an Allow in the resource
// policy is enough for Allowed. A statement applies when its principal,
// action, resource and every condition match. A part that cannot be
// decided makes a Deny count as applying and an Allow as not applying, and
// is reported in Uncertain; a part that certainly does not match decides
// the statement regardless. The error is a *PolicyError when the document
// is malformed, or wraps ErrRequest.
func Evaluate(document string, r Request) (Decision, error) {
	doc, err := parse(document)
	if err != nil {
		return Decision{}, err
	}
	return doc.evaluate(r)
}

// EvaluateAll judges document on several requests, typically the actions
// one caller needs: Allowed only if every request is allowed, Denied if
// any is denied. Statements and uncertainties are merged without repeats.
func EvaluateAll(document string, rs ...Request) (Decision, error) {
	if len(rs) == 0 {
		return Decision{}, fmt.Errorf("%w: no requests", ErrRequest)
	}
	doc, err := parse(document)
	if err != nil {
		return Decision{}, err
	}
	all := Decision{Allowed: true}
	for _, r := range rs {
		d, err := doc.evaluate(r)
		if err != nil {
			return Decision{}, err
		}
		all.Allowed = all.Allowed && d.Allowed
		all.Denied = all.Denied || d.Denied
		all.AllowStatements = appendNew(all.AllowStatements, d.AllowStatements...)
		all.DenyStatements = appendNew(all.DenyStatements, d.DenyStatements...)
		all.Uncertain = appendNew(all.Uncertain, d.Uncertain...)
	}
	all.Allowed = all.Allowed && !all.Denied
	return all, nil
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}

func (doc *document) evaluate(r Request) (Decision, error) {
	ctx, err := newContext(r)
	if err != nil {
		return Decision{}, err
	}
	var d Decision
	allowed := false
	for _, st := range doc.statements {
		v, reasons := st.applies(r, ctx, doc.vars)
		effect, counted := "Allow", "not counted"
		if st.deny {
			effect, counted = "Deny", "counted as applying"
		}
		for _, why := range reasons {
			d.Uncertain = append(d.Uncertain, fmt.Sprintf("%s statement %s: %s: %s", effect, st.label, why, counted))
		}
		switch {
		case st.deny && v != no:
			d.Denied = true
			d.DenyStatements = append(d.DenyStatements, st.name)
		case !st.deny && v == yes:
			allowed = true
			d.AllowStatements = append(d.AllowStatements, st.name)
		}
	}
	d.Allowed = allowed && !d.Denied
	return d, nil
}

func newContext(r Request) (*context, error) {
	if r.Service == "" || r.Action == "" {
		return nil, fmt.Errorf("%w: Service and Action are required", ErrRequest)
	}
	ctx := &context{known: map[string][]string{}, absent: map[string]bool{}}
	for k, v := range r.Context {
		lk := strings.ToLower(k)
		if _, dup := ctx.known[lk]; dup {
			return nil, fmt.Errorf("%w: condition key %s given twice", ErrRequest, k)
		}
		ctx.known[lk] = v
	}
	for _, k := range r.Absent {
		lk := strings.ToLower(k)
		if _, both := ctx.known[lk]; both {
			return nil, fmt.Errorf("%w: condition key %s is both known and absent", ErrRequest, k)
		}
		if p, ok := strings.CutSuffix(lk, "/*"); ok {
			ctx.prefix = append(ctx.prefix, p+"/")
			continue
		}
		ctx.absent[lk] = true
	}
	return ctx, nil
}

// applies decides whether the statement covers the request. Reasons are
// returned only when the answer is unknown.
func (st statement) applies(r Request, ctx *context, vars bool) (verdict, []string) {
	v := yes
	var reasons []string
	add := func(w verdict, why string) {
		if w == unknown {
			reasons = append(reasons, why)
		}
		v = v.and(w)
	}
	add(st.principalMatch(r.Service))
	if st.action != nil {
		add(matchAction(st.action, r.Action), "")
	} else {
		add(matchAction(st.notAction, r.Action).not(), "")
	}
	switch {
	case st.resource != nil:
		add(matchResource(st.resource, r.Resource, vars))
	case st.notResource != nil:
		w, why := matchResource(st.notResource, r.Resource, vars)
		if why != "" {
			why = "NotResource: " + why
		}
		add(w.not(), why)
	}
	// With neither Resource nor NotResource the statement covers the
	// resource the policy is attached to: a key policy's "Resource": "*"
	// "means 'this KMS key'" (AWS KMS Developer Guide, "Key policies").
	for _, c := range st.conditions {
		add(c.eval(ctx, vars))
	}
	if v != unknown {
		reasons = nil
	}
	return v, reasons
}

// principalMatch decides whether Principal or NotPrincipal covers the
// service principal (IAM User Guide, "AWS JSON policy elements:
// Principal" and "AWS JSON policy elements: NotPrincipal").
func (st statement) principalMatch(service string) (verdict, string) {
	if st.principal != nil {
		return st.principal.match(service)
	}
	np := st.notPrincipal
	if np.all || slices.Contains(np.byType["AWS"], "*") {
		return unknown, `NotPrincipal "*" excludes every principal, which is not documented`
	}
	listed, why := np.match(service)
	if st.deny || listed != no {
		return listed.not(), why
	}
	// "NotPrincipal must be used with "Effect":"Deny". Using it with
	// "Effect":"Allow" is not supported."
	return unknown, "NotPrincipal with Effect Allow is not supported"
}

// match reports whether the element names the service principal or
// everyone. {"AWS": "*"} counts as everyone: the IAM guide calls it
// equivalent to "*", and the Amazon SNS Developer Guide ("Example cases
// for Amazon SNS access control") says the default topic policy, which
// uses it, "grants access to your topic to all other AWS services".
func (p *principals) match(service string) (verdict, string) {
	if p.all {
		return yes, ""
	}
	v, why := no, ""
	for _, typ := range slices.Sorted(maps.Keys(p.byType)) {
		for _, val := range p.byType[typ] {
			w, reason := no, ""
			switch {
			case typ == "AWS":
				w = truth(val == "*") // accounts, users and roles are never a service principal
			case typ == "Service" && strings.Contains(val, "*"):
				w, reason = unknown, "Principal Service "+quote(val)+" is a wildcard, which is not documented"
			case typ == "Service":
				w = truth(strings.EqualFold(val, service))
			case typ == "Federated" || typ == "CanonicalUser":
			default:
				w, reason = unknown, "principal type "+quote(typ)+" is not documented"
			}
			if w == unknown && v != unknown {
				why = reason
			}
			v = v.or(w)
		}
	}
	if v != unknown {
		why = ""
	}
	return v, why
}
