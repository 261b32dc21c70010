package harness

import (
	"fmt"
	"strings"
)

// Report is the CLI's JSON document (README, "Command line").
type Report struct {
	Account    string    `json:"account"`
	Benchmark  string    `json:"benchmark"`
	HomeRegion string    `json:"homeRegion"`
	Compliant  bool      `json:"compliant"`
	Controls   []Control `json:"controls"`
	Regions    []Region  `json:"regions"`
	Actions    []Action  `json:"actions"`
	Warnings   []string  `json:"warnings"`
}

// Control is one control's verdict.
type Control struct {
	ID            string   `json:"id"`
	SecurityHubID string   `json:"securityHubId"`
	Status        string   `json:"status"`
	Reasons       []string `json:"reasons"`
	Codes         []string `json:"codes"`
}

// Region is one region's evaluation.
type Region struct {
	Region  string   `json:"region"`
	Status  string   `json:"status"`
	Reasons []string `json:"reasons"`
}

// Action is one planned or applied action.
type Action struct {
	Action string `json:"action"`
	Region string `json:"region"`
	Target string `json:"target"`
	Status string `json:"status"`
	Reason string `json:"reason"`
	Error  string `json:"error"`
}

// Control returns the result for id and whether the report has it.
func (r Report) Control(id string) (Control, bool) {
	for _, c := range r.Controls {
		if c.ID == id {
			return c, true
		}
	}
	return Control{}, false
}

// ActionsWith returns the actions whose status is st.
func (r Report) ActionsWith(st string) []Action {
	var out []Action
	for _, a := range r.Actions {
		if a.Status == st {
			out = append(out, a)
		}
	}
	return out
}

// Summary renders the non-passing controls and regions and every action,
// for failure messages.
func (r Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "compliant=%t", r.Compliant)
	for _, c := range r.Controls {
		if c.Status != "PASS" {
			fmt.Fprintf(&b, "\n  control %s %s %q %q", c.ID, c.Status, c.Codes, c.Reasons)
		}
	}
	for _, rg := range r.Regions {
		if rg.Status != "PASS" {
			fmt.Fprintf(&b, "\n  region %s %s %q", rg.Region, rg.Status, rg.Reasons)
		}
	}
	for _, a := range r.Actions {
		fmt.Fprintf(&b, "\n  action %s %s %s %s (%s) %s", a.Status, a.Action, a.Region, a.Target, a.Reason, a.Error)
	}
	return b.String()
}
