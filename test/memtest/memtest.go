// Package memtest measures what a piece of code allocates, for the tests
// that prove hostile input is refused in bounded memory. It counts bytes
// allocated (a measure of work done), never time, so results do not depend
// on machine load or on when the garbage collector runs.
package memtest

import "runtime"

// Bound is the allocation budget of one hostile input: the Lambda runs in
// 128 MB, and a hostile event, pattern or configuration must not be able to
// spend half of it.
const Bound = 64 << 20

// Allocated returns the bytes f allocates on the heap (the TotalAlloc delta).
func Allocated(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
