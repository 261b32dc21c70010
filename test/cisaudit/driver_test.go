package cisaudit

import "testing"

// An interpreter that cannot run awscli falls back to one `aws` process per
// command rather than failing the audit.
func TestNewDriverFallsBackToSpawn(t *testing.T) {
	d := newDriver(Options{Python: "false"})
	defer d.close()
	if s, ok := d.(spawn); !ok || s.exe != "aws" {
		t.Fatalf("driver %#v, want spawn of aws", d)
	}
	d = newDriver(Options{AWS: "/opt/aws"})
	if s, ok := d.(spawn); !ok || s.exe != "/opt/aws" {
		t.Fatalf("driver %#v, want spawn of /opt/aws", d)
	}
}
