package engine

import (
	"sync"
	"testing"

	"github.com/watchkeeper/watchkeeper/test/moto"
)

// TestClientCache checks that each region's clients are built once, even
// when many goroutines ask at once, and that clients are per region.
func TestClientCache(t *testing.T) {
	c := newClientCache(moto.Config("http://127.0.0.1:1", "us-east-1"))
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	got := make([][]*regional, len(regions))
	var wg sync.WaitGroup
	for i, r := range regions {
		got[i] = make([]*regional, 8)
		for j := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i][j] = c.get(r)
			}()
		}
	}
	wg.Wait()
	if n := c.built(); n != len(regions) {
		t.Errorf("built %d client sets, want %d", n, len(regions))
	}
	for i, r := range regions {
		for _, g := range got[i] {
			if g != got[i][0] {
				t.Errorf("region %s: clients rebuilt", r)
			}
		}
		if reg := got[i][0].logs.Options().Region; reg != r {
			t.Errorf("logs client for %s is configured for %s", r, reg)
		}
		if reg := got[i][0].cloudTrail.Options().Region; reg != r {
			t.Errorf("cloudtrail client for %s is configured for %s", r, reg)
		}
	}
}
