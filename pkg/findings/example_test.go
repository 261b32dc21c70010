package findings_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/watchkeeper/watchkeeper/pkg/findings"
	"github.com/watchkeeper/watchkeeper/pkg/report"
)

// Example shows the wiring of a front end: rep is the run's report
// (engine.Run), cfg the run's AWS configuration.
func Example() {
	var (
		ctx     = context.Background()
		rep     report.Report
		cfg     aws.Config
		version = "dev"
		log     = slog.Default()
	)
	fs := findings.Build(rep, findings.Meta{Version: version})

	// --output asff: the document is the BatchImportFindings request body.
	doc, err := findings.Document(fs)
	if err != nil {
		log.Error("render findings", "err", err)
		return
	}
	_, _ = os.Stdout.Write(doc)

	// --findings securityhub: into the home Region's Security Hub.
	client := securityhub.NewFromConfig(cfg, func(o *securityhub.Options) { o.Region = rep.HomeRegion })
	res, err := findings.Publisher{Client: client, Log: log}.Publish(ctx, fs)
	if err != nil {
		log.Warn("security hub findings not published", "err", err) // the run goes on
	}
	rep.Warnings = append(rep.Warnings, res.Warnings...)
}
