package catalog

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Building the benchmarks from the topic table in data.go: each topic's
// control as one benchmark version words it, with its accepted variants.

// routeTableSplit is 4.13 from v3.0.0 on, where the audit text gained an
// ungrouped eventSource term that the remediation text lacks.
func routeTableSplit(audit string) texts {
	return texts{
		remediation: routeTableV120,
		audit:       audit,
		warnings: []string{
			"the audit text prepends `($.eventSource = ec2.amazonaws.com) &&` without parentheses, which the remediation text lacks; " +
				precedenceNote + ", so in the audit text the eventSource term constrains only CreateRoute",
		},
		resolution: "Written: the remediation text (what the benchmark tells you to create), which covers the audit text. " +
			"Accepted: both texts, the Security Hub string and the ec2.amazonaws.com-scoped Security Hub recommendation.",
	}
}

// benchmarks is derived from topics at init.
var benchmarks = buildBenchmarks()

func buildBenchmarks() map[string]Benchmark {
	out := make(map[string]Benchmark, len(versions))
	for _, v := range versions {
		b := Benchmark{ID: "cis-aws-v" + v.number, Version: v.number, Section: v.section}
		for _, t := range topics {
			if versionIndex(v.number) < versionIndex(t.since) {
				continue
			}
			b.Controls = append(b.Controls, t.control(v))
		}
		out[b.ID] = b
	}
	return out
}

// control derives the topic's control as version v prescribes it.
func (t topic) control(v version) Control {
	tx := at(t.texts, v.number)
	title := at(t.titles, v.number)
	evs := at(t.events, v.number)
	c := Control{
		ID:            fmt.Sprintf("%s.%d", v.section, t.n),
		Key:           t.key,
		SecurityHubID: t.securityHubID,
		Title:         title,
		MetricName:    t.metricName,
		Events:        append([]Event(nil), evs...),
		Pattern:       map[Profile]string{},
		Warnings:      append([]string(nil), tx.warnings...),
	}
	written := tx.remediation
	if tx.write != "" {
		written = tx.write
	}
	c.Pattern[ProfileBenchmark] = written

	var acc variants
	ver := "v" + v.number
	if tx.audit == "" {
		acc.add(tx.remediation, ver+" audit and remediation")
	} else {
		acc.add(tx.remediation, ver+" remediation")
		acc.add(tx.audit, ver+" audit")
	}
	if tx.alternative != "" {
		acc.add(tx.alternative, ver+" SSO alternative (audit and remediation)")
	}
	for _, x := range tx.extra {
		acc.add(x.Pattern, x.Source)
	}

	var notes []string
	if tx.resolution != "" {
		notes = append(notes, tx.resolution)
	}
	switch {
	case t.securityHub == "":
	case tx.securityHubMismatch != "":
		c.Pattern[ProfileSecurityHub] = written
		c.Warnings = append(c.Warnings, tx.securityHubMismatch)
	default:
		c.Pattern[ProfileSecurityHub] = t.securityHub
		acc.add(t.securityHub, "Security Hub "+t.securityHubID)
		for _, x := range t.securityHubAlso {
			acc.add(x.Pattern, x.Source)
		}
		if t.securityHubNote != "" {
			notes = append(notes, t.securityHubNote)
		}
	}
	c.Accepted = acc.list
	c.Resolution = strings.Join(notes, " ")
	return c
}

// variants collects accepted variants, merging the sources of identical
// texts so each pattern string is listed once.
type variants struct{ list []Variant }

func (vs *variants) add(pattern, source string) {
	for i := range vs.list {
		if vs.list[i].Pattern == pattern {
			vs.list[i].Source += "; " + source
			return
		}
	}
	vs.list = append(vs.list, Variant{Pattern: pattern, Source: source})
}

// clone returns a deep copy of b, so that callers cannot change the
// catalog through the slices and maps of a Benchmark they were given.
func (b Benchmark) clone() Benchmark {
	out := b
	out.Controls = make([]Control, len(b.Controls))
	for i, c := range b.Controls {
		c.Pattern = maps.Clone(c.Pattern)
		c.Accepted = slices.Clone(c.Accepted)
		c.Events = slices.Clone(c.Events)
		c.Warnings = slices.Clone(c.Warnings)
		out.Controls[i] = c
	}
	return out
}
