package engine

import (
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// regional holds the SDK clients of one region. They are concrete clients:
// inspect and apply each take only the narrow read or write interfaces they
// declare, so the same client serves both without widening either.
type regional struct {
	cloudTrail *cloudtrail.Client
	logs       *cloudwatchlogs.Client
	cloudWatch *cloudwatch.Client
	sns        *sns.Client
	kms        *kms.Client
}

// clientCache builds each region's clients on first use and keeps them, so
// a run that touches 30 regions twice (observe, apply, observe again) builds
// 30 sets of clients, not 90, and regions that are never touched cost
// nothing. All clients share one aws.Config (credentials, HTTP client and
// its connection pool, and the retry policy New installs: each client
// builds its own retryer, hence its own retry quota, from cfg.Retryer, as
// the SDK does by default); only the region differs.
type clientCache struct {
	cfg aws.Config

	mu      sync.Mutex
	regions map[string]*regional
}

func newClientCache(cfg aws.Config) *clientCache {
	return &clientCache{cfg: cfg, regions: make(map[string]*regional)}
}

// get returns region's clients, building them on first use. It is safe for
// concurrent use: inspect and apply call it from several goroutines.
func (c *clientCache) get(region string) *regional {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.regions[region]; ok {
		return r
	}
	r := &regional{
		cloudTrail: cloudtrail.NewFromConfig(c.cfg, func(o *cloudtrail.Options) { o.Region = region }),
		logs:       cloudwatchlogs.NewFromConfig(c.cfg, func(o *cloudwatchlogs.Options) { o.Region = region }),
		cloudWatch: cloudwatch.NewFromConfig(c.cfg, func(o *cloudwatch.Options) { o.Region = region }),
		sns:        sns.NewFromConfig(c.cfg, func(o *sns.Options) { o.Region = region }),
		kms:        kms.NewFromConfig(c.cfg, func(o *kms.Options) { o.Region = region }),
	}
	c.regions[region] = r
	return r
}

// built reports how many regions have clients; tests use it to check that
// clients are cached rather than rebuilt.
func (c *clientCache) built() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.regions)
}
