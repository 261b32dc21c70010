// Package harness runs the remediator CLI end to end against moto_server for
// the test packages that exercise the real binary (test/scenarios,
// test/verdicts, test/reliability).
//
// Main, called from a package's TestMain, builds functions/remediator once,
// launches one moto_server (test/moto) behind one test/awsproxy proxy, lets
// the package install its shims, runs the tests and tears everything down:
//
//	var h *harness.Harness
//
//	func TestMain(m *testing.M) {
//		os.Exit(harness.Main(m, func(hh *harness.Harness) {
//			h = hh
//			h.Proxy.ShimAll()
//		}))
//	}
//
// Tests then reset moto between cases with Reset, seed and read back state
// through Config (the same proxy the CLI talks to), and run the binary with
// RunCLI, which gives it a hermetic environment (moto.Env: no inherited
// AWS_* variable), bounds it with CLITimeout and decodes its JSON report.
//
// Report and its parts are declared here, not imported from pkg/report, so
// the tests pin the published JSON contract (README, "Command line") rather
// than whatever the package emits.
package harness
