package selfwatch_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/watchkeeper/watchkeeper/pkg/selfwatch"
)

// world is a default event bus: rule name -> enabled; absent means the rule
// does not exist. enableErr makes EnableRule fail.
type world struct {
	rules     map[string]bool
	readErr   error
	enableErr error
	enabled   []string // EnableRule calls, in order
}

func (w *world) Enabled(ctx context.Context, name string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if w.readErr != nil {
		return false, w.readErr
	}
	on, ok := w.rules[name]
	if !ok {
		return false, selfwatch.ErrNotFound
	}
	return on, nil
}

func (w *world) Enable(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.enabled = append(w.enabled, name)
	if w.enableErr != nil {
		return w.enableErr
	}
	if _, ok := w.rules[name]; !ok {
		return selfwatch.ErrNotFound
	}
	w.rules[name] = true
	return nil
}

func TestCheckRestoresDisabledRulesAndReportsTheRest(t *testing.T) {
	denied := errors.New("AccessDeniedException")
	for _, tc := range []struct {
		name        string
		w           *world
		restore     bool
		want        []selfwatch.Rule
		wantEnabled []string
	}{
		{name: "all enabled", restore: true,
			w: &world{rules: map[string]bool{selfwatch.ScheduleRule: true, selfwatch.DriftRule: true, selfwatch.WatchRule: true}},
			want: []selfwatch.Rule{{Name: selfwatch.ScheduleRule, Status: selfwatch.Enabled}, {Name: selfwatch.DriftRule, Status: selfwatch.Enabled},
				{Name: selfwatch.WatchRule, Status: selfwatch.Enabled}}},
		{name: "drift rule disabled, apply", restore: true,
			w: &world{rules: map[string]bool{selfwatch.ScheduleRule: true, selfwatch.DriftRule: false, selfwatch.WatchRule: true}},
			want: []selfwatch.Rule{{Name: selfwatch.ScheduleRule, Status: selfwatch.Enabled}, {Name: selfwatch.DriftRule, Status: selfwatch.Restored},
				{Name: selfwatch.WatchRule, Status: selfwatch.Enabled}},
			wantEnabled: []string{selfwatch.DriftRule}},
		{name: "drift rule disabled, report-only", restore: false,
			w: &world{rules: map[string]bool{selfwatch.ScheduleRule: true, selfwatch.DriftRule: false, selfwatch.WatchRule: true}},
			want: []selfwatch.Rule{{Name: selfwatch.ScheduleRule, Status: selfwatch.Enabled},
				{Name: selfwatch.DriftRule, Status: selfwatch.Disabled, Error: "report-only run: not enabled"},
				{Name: selfwatch.WatchRule, Status: selfwatch.Enabled}}},
		{name: "self-watch rule deleted", restore: true,
			w: &world{rules: map[string]bool{selfwatch.ScheduleRule: true, selfwatch.DriftRule: true}},
			want: []selfwatch.Rule{{Name: selfwatch.ScheduleRule, Status: selfwatch.Enabled}, {Name: selfwatch.DriftRule, Status: selfwatch.Enabled},
				{Name: selfwatch.WatchRule, Status: selfwatch.Missing}}},
		{name: "enable denied", restore: true,
			w: &world{rules: map[string]bool{selfwatch.ScheduleRule: false, selfwatch.DriftRule: true, selfwatch.WatchRule: true}, enableErr: denied},
			want: []selfwatch.Rule{{Name: selfwatch.ScheduleRule, Status: selfwatch.Disabled, Error: denied.Error()},
				{Name: selfwatch.DriftRule, Status: selfwatch.Enabled}, {Name: selfwatch.WatchRule, Status: selfwatch.Enabled}},
			wantEnabled: []string{selfwatch.ScheduleRule}},
		{name: "unreadable", restore: true, w: &world{readErr: denied},
			want: []selfwatch.Rule{{Name: selfwatch.ScheduleRule, Status: selfwatch.Unknown, Error: denied.Error()},
				{Name: selfwatch.DriftRule, Status: selfwatch.Unknown, Error: denied.Error()}, {Name: selfwatch.WatchRule, Status: selfwatch.Unknown, Error: denied.Error()}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := selfwatch.Check(t.Context(), tc.w, selfwatch.Rules(), tc.restore)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Check outcomes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantEnabled, tc.w.enabled); diff != "" {
				t.Errorf("EnableRule calls (-want +got):\n%s", diff)
			}
			// Convergence: a second check finds nothing left to restore.
			for _, r := range selfwatch.Check(t.Context(), tc.w, selfwatch.Rules(), tc.restore) {
				if r.Status == selfwatch.Restored {
					t.Errorf("second check restored %s again", r.Name)
				}
			}
		})
	}
}

func TestNeedsPerson(t *testing.T) {
	for s, want := range map[selfwatch.Status]bool{selfwatch.Enabled: false, selfwatch.Restored: false,
		selfwatch.Disabled: true, selfwatch.Missing: true, selfwatch.Unknown: true} {
		if got := (selfwatch.Rule{Status: s}).NeedsPerson(); got != want {
			t.Errorf("NeedsPerson(%s) = %v, want %v", s, got, want)
		}
	}
}
