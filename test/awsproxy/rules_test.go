package awsproxy_test

import (
	"slices"
	"testing"

	"github.com/watchkeeper/watchkeeper/test/awsproxy"
	"github.com/watchkeeper/watchkeeper/test/moto"
)

// TestInjectedByRule: injections are attributed to the rule that fired, in
// Inject order, and Reset zeroes them.
func TestInjectedByRule(t *testing.T) {
	srv := moto.Start(t)
	p := awsproxy.New(srv.URL)
	defer p.Close()
	p.Inject(awsproxy.Fault{Service: "logs", Kind: awsproxy.FaultThrottle, Times: 1})
	p.Inject(awsproxy.Fault{Service: "logs", Kind: awsproxy.FaultInternal, Times: 2})
	p.Inject(awsproxy.Fault{Service: "sns", Kind: awsproxy.FaultInternal})
	cfg := moto.Config(p.URL, "us-east-1")
	for range 4 {
		_ = oneCall["logs"](t.Context(), cfg)
	}
	if got, want := p.InjectedByRule(), []int{1, 2, 0}; !slices.Equal(got, want) {
		t.Errorf("InjectedByRule() = %v, want %v", got, want)
	}
	p.Reset()
	if got, want := p.InjectedByRule(), []int{0, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("after Reset: InjectedByRule() = %v, want %v", got, want)
	}
}
