package engine

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/watchkeeper/watchkeeper/pkg/inspect"
)

// proven remembers, for one run, the answers of the first observation that
// apply cannot change: the caller's identity and the Region list with each
// Region's opt-in status. The observation after apply gets them from here
// instead of asking AWS again, so verifying a healed account re-reads only
// what apply may have changed, and a throttled or failed GetCallerIdentity
// or DescribeRegions after apply can no longer cost the run its
// verification (Run would otherwise return ErrUnverified, or observe the
// requested Regions unverified).
//
// Only successful answers are kept: when the first observation could not
// read them, the second asks again. A new proven per run means a warm
// Lambda container still sees a Region enabled between two runs.
type proven struct {
	identity inspect.IdentityReader
	regions  inspect.RegionLister

	mu      sync.Mutex
	ident   *sts.GetCallerIdentityOutput
	listing map[bool]*ec2.DescribeRegionsOutput // by AllRegions
}

var (
	_ inspect.IdentityReader = (*proven)(nil)
	_ inspect.RegionLister   = (*proven)(nil)
)

func newProven(identity inspect.IdentityReader, regions inspect.RegionLister) *proven {
	return &proven{identity: identity, regions: regions, listing: map[bool]*ec2.DescribeRegionsOutput{}}
}

// GetCallerIdentity returns the identity read earlier in the run, or reads
// it.
func (p *proven) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, opts ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	p.mu.Lock()
	known := p.ident
	p.mu.Unlock()
	if known != nil {
		return known, nil
	}
	out, err := p.identity.GetCallerIdentity(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.ident = out
	p.mu.Unlock()
	return out, nil
}

// DescribeRegions returns the Region list read earlier in the run for the
// same AllRegions, or reads it. A request that names Regions or filters
// is always sent: its answer is not the whole list.
func (p *proven) DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, opts ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
	whole := len(in.RegionNames) == 0 && len(in.Filters) == 0
	all := aws.ToBool(in.AllRegions)
	if whole {
		p.mu.Lock()
		known := p.listing[all]
		p.mu.Unlock()
		if known != nil {
			return known, nil
		}
	}
	out, err := p.regions.DescribeRegions(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	if whole {
		p.mu.Lock()
		p.listing[all] = out
		p.mu.Unlock()
	}
	return out, nil
}
