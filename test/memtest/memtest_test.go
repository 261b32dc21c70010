package memtest_test

import (
	"testing"

	"github.com/watchkeeper/watchkeeper/test/memtest"
)

var sink []byte

func TestAllocatedCountsWhatFAllocates(t *testing.T) {
	const n = 8 << 20
	got := memtest.Allocated(func() { sink = make([]byte, n) })
	if got < n || got > 2*n {
		t.Errorf("Allocated(make 8 MiB) = %d bytes, want about %d", got, n)
	}
	if small := memtest.Allocated(func() {}); small >= 1<<20 {
		t.Errorf("Allocated(nothing) = %d bytes, want well under 1 MiB", small)
	}
}
