// Package reliability proves that Watchkeeper survives AWS's real failure
// modes (issue #6, items 1-5; issue #11 part 4, the throttling storm that
// one run must heal through): it drives the engine, the CLI binary and the
// Lambda bootstrap against moto_server behind test/awsproxy, which injects
// throttling, server faults, connection resets, slow responses, denied and
// not-opted-in regions on seeded, reproducible schedules.
//
// The tests live in the _test files; "go run ./test/reliability/cmd/report"
// (make reliability) runs them and writes the figures as a markdown report.
//
// Flags (after -args):
//
//	-reliability.schedules N   random fault schedules in the convergence suite (default 200)
//	-reliability.seed S        first seed; schedule i uses seed S+i (default 1)
//	-reliability.cli N         schedules also driven through the CLI binary (default 8)
//	-reliability.storms N      throttling-storm schedules: 25% of calls throttled, one Region
//	                           denied, one run must heal (default 0: the smoke set; make reliability runs 100)
//	-reliability.storm-cli N   storm schedules also driven through the CLI binary, real backoff (default 2)
//	-reliability.workers N     moto servers the schedules are spread over (default 4)
//	-reliability.report FILE   write the markdown report of the figures to FILE
//
// A failed schedule is reported with its seed and the command line that
// reruns exactly that schedule.
package reliability
