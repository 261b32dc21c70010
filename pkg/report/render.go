package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/watchkeeper/watchkeeper/pkg/plan"
)

// jsonDoc is the --output json document (issue #3). It spells out every
// key, so the contract does not depend on omitempty tags elsewhere: every
// contract key is always present and every list is an array, never null.
type jsonDoc struct {
	Account    string        `json:"account"`
	Benchmark  string        `json:"benchmark"`
	HomeRegion string        `json:"homeRegion"`
	Mode       string        `json:"mode"`
	Compliant  bool          `json:"compliant"`
	Controls   []jsonControl `json:"controls"`
	Regions    []jsonRegion  `json:"regions"`
	Actions    []Action      `json:"actions"`
	Warnings   []string      `json:"warnings"`
	// Organization is the trail owner's coverage of the organization's
	// accounts; present only when it was asked for (--organization).
	Organization *plan.Organization `json:"organization,omitempty"`
}

type jsonControl struct {
	ID            string   `json:"id"`
	SecurityHubID string   `json:"securityHubId"`
	Title         string   `json:"title"`
	Status        string   `json:"status"`
	Reasons       []string `json:"reasons"`
	Codes         []string `json:"codes"`
	Where         string   `json:"where,omitempty"`
	// Central names the organization trail, its owner account and its log
	// group on a CENTRAL control.
	Central *plan.Central `json:"central,omitempty"`
}

type jsonRegion struct {
	Region  string        `json:"region"`
	Status  string        `json:"status"`
	Reasons []string      `json:"reasons"`
	Central *plan.Central `json:"central,omitempty"`
}

// WriteJSON writes the report as one indented JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	doc := jsonDoc{
		Account: r.Account, Benchmark: r.Benchmark, HomeRegion: r.HomeRegion, Mode: r.Mode, Compliant: r.Compliant,
		Controls:     make([]jsonControl, 0, len(r.Controls)),
		Regions:      make([]jsonRegion, 0, len(r.Regions)),
		Actions:      make([]Action, 0, len(r.Actions)),
		Warnings:     nonNil(r.Warnings),
		Organization: r.Organization,
	}
	for _, c := range r.Controls {
		doc.Controls = append(doc.Controls, jsonControl{
			ID: c.ID, SecurityHubID: c.SecurityHubID, Title: c.Title, Status: string(c.Status),
			Reasons: nonNil(c.Reasons), Codes: nonNil(c.Codes), Where: c.Where, Central: c.Central,
		})
	}
	for _, g := range r.Regions {
		doc.Regions = append(doc.Regions, jsonRegion{Region: g.Region, Status: string(g.Status), Reasons: nonNil(g.Reasons), Central: g.Central})
	}
	for _, a := range r.Actions {
		a.Controls = nonNil(a.Controls)
		doc.Actions = append(doc.Actions, a)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // filter patterns are full of && and must stay readable
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// WriteText writes the report as plain-text tables for people: the
// controls with their first reason, a region summary, the actions and the
// warnings, then every reason of each control that does not pass.
func (r Report) WriteText(w io.Writer) error {
	tw := &errWriter{w: w}
	verdict := "NOT COMPLIANT"
	if r.Compliant {
		verdict = "COMPLIANT"
	}
	tw.printf("Watchkeeper %s: account %s, benchmark %s, home region %s: %s\n\n",
		orDash(r.Mode), orDash(r.Account), orDash(r.Benchmark), orDash(r.HomeRegion), verdict)

	tab := tabwriter.NewWriter(tw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tab, "CONTROL\tSECURITY HUB\tSTATUS\tREASON")
	for _, c := range r.Controls {
		fmt.Fprintf(tab, "%s\t%s\t%s\t%s\n", c.ID, orDash(c.SecurityHubID), c.Status, oneLine(first(c.Reasons)))
	}
	tw.flush(tab)

	counts := map[plan.Status]int{}
	for _, g := range r.Regions {
		counts[g.Status]++
	}
	tw.printf("\nREGIONS: %d PASS, %d FAIL, %d ERROR", counts[plan.StatusPass], counts[plan.StatusFail], counts[plan.StatusError])
	if n := counts[plan.StatusCentral]; n > 0 {
		tw.printf(", %d CENTRAL", n)
	}
	tw.printf("\n")
	tab = tabwriter.NewWriter(tw, 0, 0, 2, ' ', 0)
	for _, g := range r.Regions {
		if g.Status != plan.StatusPass && g.Status != plan.StatusCentral {
			fmt.Fprintf(tab, "  %s\t%s\t%s\n", g.Region, g.Status, oneLine(first(g.Reasons)))
		}
	}
	tw.flush(tab)

	r.writeCentral(tw)
	r.writeOrganization(tw)
	r.writeActions(tw)

	if len(r.Warnings) > 0 {
		tw.printf("\nWARNINGS\n")
		for _, x := range r.Warnings {
			tw.printf("  - %s\n", oneLine(x))
		}
	}

	r.writeDetails(tw)
	return tw.err
}

// writeCentral names, once, each organization trail that CENTRAL controls
// rely on: the trail, its owner account and its log group.
func (r Report) writeCentral(tw *errWriter) {
	seen := map[string]bool{}
	for _, c := range r.Controls {
		ct := c.Central
		if ct == nil || seen[ct.TrailARN] {
			continue
		}
		seen[ct.TrailARN] = true
		tw.printf("\nCENTRAL: organization trail %s, owner account %s, log group %s (%s)\n", ct.TrailARN, ct.OwnerAccount, ct.LogGroupName, ct.Region)
	}
}

// writeOrganization writes the organization's accounts and whether the
// organization trail covers each.
func (r Report) writeOrganization(tw *errWriter) {
	o := r.Organization
	if o == nil {
		return
	}
	if o.Error != "" {
		tw.printf("\nORGANIZATION: accounts not listed: %s\n", oneLine(o.Error))
		return
	}
	covered := 0
	for _, a := range o.Accounts {
		if a.Covered {
			covered++
		}
	}
	tw.printf("\nORGANIZATION: %d of %d accounts covered by %s\n", covered, len(o.Accounts), orDash(o.TrailARN))
	tab := tabwriter.NewWriter(tw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tab, "  ACCOUNT\tNAME\tSTATUS\tCOVERED\tREASON")
	for _, a := range o.Accounts {
		fmt.Fprintf(tab, "  %s\t%s\t%s\t%t\t%s\n", a.ID, oneLine(a.Name), a.Status, a.Covered, oneLine(a.Reason))
	}
	tw.flush(tab)
}

// writeActions writes the actions table.
func (r Report) writeActions(tw *errWriter) {
	if len(r.Actions) == 0 {
		tw.printf("\nACTIONS: none\n")
	} else {
		tw.printf("\nACTIONS: %d\n", len(r.Actions))
		tab := tabwriter.NewWriter(tw, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tab, "STATUS\tACTION\tREGION\tTARGET\tREASON")
		for _, a := range r.Actions {
			reason := a.Reason
			if a.Error != "" {
				reason = "error: " + a.Error
			}
			target := a.Target
			if a.Detail != "" {
				target += " (" + a.Detail + ")"
			}
			fmt.Fprintf(tab, "%s\t%s\t%s\t%s\t%s\n", a.Status, a.Action, a.Region, target, oneLine(reason))
		}
		tw.flush(tab)
	}
}

// writeDetails writes every reason of each control that does not pass;
// controls with identical verdicts (common when a trail is the problem)
// share one entry.
func (r Report) writeDetails(tw *errWriter) {
	type group struct {
		ids []string
		c   plan.ControlResult
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, c := range r.Controls {
		if c.Status == plan.StatusPass || c.Status == plan.StatusExcluded || len(c.Reasons) < 2 {
			continue
		}
		k := string(c.Status) + "\x00" + strings.Join(c.Codes, "\x00") + "\x00" + strings.Join(c.Reasons, "\x00")
		if g, ok := byKey[k]; ok {
			g.ids = append(g.ids, c.ID)
			continue
		}
		g := &group{ids: []string{c.ID}, c: c}
		byKey[k] = g
		groups = append(groups, g)
	}
	if len(groups) > 0 {
		tw.printf("\nDETAILS\n")
	}
	for _, g := range groups {
		codes := ""
		if len(g.c.Codes) > 0 {
			codes = " (" + strings.Join(g.c.Codes, ", ") + ")"
		}
		tw.printf("%s %s%s\n", strings.Join(g.ids, ", "), g.c.Status, codes)
		for _, x := range g.c.Reasons {
			tw.printf("  - %s\n", oneLine(x))
		}
	}
}

// errWriter keeps the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = fmt.Errorf("write text report: %w", err)
	}
	return n, e.err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

func (e *errWriter) flush(tw *tabwriter.Writer) {
	if err := tw.Flush(); err != nil && e.err == nil {
		e.err = fmt.Errorf("write text report: %w", err)
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps table rows on one line whatever a reason contains.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
