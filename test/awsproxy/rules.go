package awsproxy

// InjectedByRule returns, for each fault rule in the order Inject added
// them, how many calls it has failed since the last Reset (or Seed), so a
// test can attribute injections to the kind and code of its rules.
func (p *Proxy) InjectedByRule() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]int, len(p.faults.rules))
	for i, r := range p.faults.rules {
		out[i] = r.injected
	}
	return out
}
