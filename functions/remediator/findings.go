package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/watchkeeper/watchkeeper/pkg/findings"
	"github.com/watchkeeper/watchkeeper/pkg/report"
)

// securityHub returns the Security Hub client of a Region; findings go to
// the home Region's hub, where a delegated administrator aggregates them.
type securityHub func(region string) findings.Hub

func newSecurityHub(cfg aws.Config) securityHub {
	return func(region string) findings.Hub {
		return securityhub.NewFromConfig(cfg, func(o *securityhub.Options) { o.Region = region })
	}
}

// importFindings imports rep's verdicts, one finding per control, into the
// home Region's Security Hub. Security Hub being off or denied, or any
// other failure, is a warning added to rep: the findings are a copy of the
// report, and the run's verdicts and healing stand without them. The
// Publisher logs what it imported.
func importFindings(ctx context.Context, hub securityHub, rep *report.Report, log *slog.Logger) {
	fs := findings.Build(*rep, findings.Meta{Version: version})
	if len(fs) == 0 {
		return
	}
	res, err := findings.Publisher{Client: hub(rep.HomeRegion), Log: log}.Publish(ctx, fs)
	rep.Warnings = append(rep.Warnings, res.Warnings...)
	if err != nil {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("Security Hub findings not imported: %v", err))
		log.Warn("security hub findings not imported", "error", err)
	}
}

// writeASFF writes rep's findings as one ASFF document (--output asff).
func writeASFF(w io.Writer, rep report.Report) error {
	doc, err := findings.Document(findings.Build(rep, findings.Meta{Version: version}))
	if err != nil {
		return err
	}
	_, err = w.Write(doc)
	return err
}
