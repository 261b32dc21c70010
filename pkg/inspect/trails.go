package inspect

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/watchkeeper/watchkeeper/pkg/account"
)

// describeTrails records the trails region sees, shadow copies of
// multi-region trails included, adds each to the account's trails and
// returns those not seen before.
func (o *observation) describeTrails(ctx context.Context, r *account.Region) []*account.Trail {
	var out *cloudtrail.DescribeTrailsOutput
	err := o.call(ctx, func() (err error) {
		out, err = o.in.opts.Clients(r.Name).CloudTrail.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{
			IncludeShadowTrails: aws.Bool(true),
		})
		return err
	})
	if err != nil {
		r.Error = "describe trails: " + cause(err)
		o.in.log.Warn("region not observed", "region", r.Name, "error", r.Error)
		return nil
	}
	r.TrailARNs = make([]string, 0, len(out.TrailList))
	var added []*account.Trail
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, ct := range out.TrailList {
		t := convertTrail(ct)
		if t.ARN == "" {
			continue
		}
		r.TrailARNs = append(r.TrailARNs, t.ARN)
		if _, ok := o.trails[t.ARN]; !ok {
			o.trails[t.ARN] = &t
			added = append(added, &t)
		}
	}
	slices.Sort(r.TrailARNs)
	r.TrailARNs = slices.Compact(r.TrailARNs)
	return added
}

func convertTrail(ct cttypes.Trail) account.Trail {
	trailARN := aws.ToString(ct.TrailARN)
	a, _ := arn.Parse(trailARN) // the zero ARN when malformed
	home := aws.ToString(ct.HomeRegion)
	if home == "" {
		home = a.Region
	}
	return account.Trail{
		ARN:                 trailARN,
		Name:                aws.ToString(ct.Name),
		HomeRegion:          home,
		OwnerAccount:        a.AccountID,
		IsMultiRegion:       aws.ToBool(ct.IsMultiRegionTrail),
		IsOrganizationTrail: aws.ToBool(ct.IsOrganizationTrail),
		LogGroupARN:         strings.TrimSuffix(aws.ToString(ct.CloudWatchLogsLogGroupArn), ":*"),
		LogsRoleARN:         aws.ToString(ct.CloudWatchLogsRoleArn),
	}
}

// trailStatus reads a candidate trail's status in its home region.
func (o *observation) trailStatus(ctx context.Context, t *account.Trail) {
	var out *cloudtrail.GetTrailStatusOutput
	err := o.call(ctx, func() (err error) {
		out, err = o.clients(t.OwnerAccount, t.HomeRegion).CloudTrail.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(t.ARN)})
		return err
	})
	if err != nil {
		t.StatusError = "get trail status: " + cause(err)
		return
	}
	st := &account.TrailStatus{
		IsLogging:                         aws.ToBool(out.IsLogging),
		LatestCloudWatchLogsDeliveryError: aws.ToString(out.LatestCloudWatchLogsDeliveryError),
	}
	if out.LatestCloudWatchLogsDeliveryTime != nil {
		st.LatestCloudWatchLogsDeliveryTime = out.LatestCloudWatchLogsDeliveryTime.UTC().Format(time.RFC3339)
	}
	t.Status = st
}

// trailSelectors reads a candidate trail's event selectors in its home region.
func (o *observation) trailSelectors(ctx context.Context, t *account.Trail) {
	var out *cloudtrail.GetEventSelectorsOutput
	err := o.call(ctx, func() (err error) {
		out, err = o.clients(t.OwnerAccount, t.HomeRegion).CloudTrail.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(t.ARN)})
		return err
	})
	if err != nil {
		t.SelectorsError = "get event selectors: " + cause(err)
		return
	}
	t.Selectors = convertSelectors(out)
}

func convertSelectors(out *cloudtrail.GetEventSelectorsOutput) *account.Selectors {
	s := &account.Selectors{}
	for _, es := range out.EventSelectors {
		cs := account.ClassicSelector{
			ReadWriteType: string(es.ReadWriteType),
			// The CloudTrail API reference (EventSelector) documents
			// IncludeManagementEvents as defaulting to true when omitted.
			IncludeManagementEvents:       es.IncludeManagementEvents == nil || *es.IncludeManagementEvents,
			ExcludeManagementEventSources: es.ExcludeManagementEventSources,
		}
		if cs.ReadWriteType == "" {
			cs.ReadWriteType = string(cttypes.ReadWriteTypeAll) // the documented default
		}
		for _, dr := range es.DataResources {
			cs.DataResources = append(cs.DataResources, account.DataResource{Type: aws.ToString(dr.Type), Values: dr.Values})
		}
		s.Classic = append(s.Classic, cs)
	}
	for _, as := range out.AdvancedEventSelectors {
		a := account.AdvancedSelector{Name: aws.ToString(as.Name)}
		for _, fs := range as.FieldSelectors {
			a.FieldSelectors = append(a.FieldSelectors, account.FieldSelector{
				Field:         aws.ToString(fs.Field),
				Equals:        fs.Equals,
				NotEquals:     fs.NotEquals,
				StartsWith:    fs.StartsWith,
				NotStartsWith: fs.NotStartsWith,
				EndsWith:      fs.EndsWith,
				NotEndsWith:   fs.NotEndsWith,
			})
		}
		s.Advanced = append(s.Advanced, a)
	}
	return s
}

// listAccounts lists the organization's accounts (paginated), sorted by
// ID. A failure is recorded, not returned: the account itself can still be
// judged.
func (o *observation) listAccounts(ctx context.Context, lister OrgLister) *account.Organization {
	org := &account.Organization{Accounts: []account.OrgAccount{}}
	p := organizations.NewListAccountsPaginator(lister, &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		var out *organizations.ListAccountsOutput
		err := o.call(ctx, func() (err error) {
			out, err = p.NextPage(ctx)
			return err
		})
		if err != nil {
			org.Error = "list accounts: " + cause(err)
			o.in.log.Warn("organization not listed", "error", org.Error)
			return org
		}
		for _, a := range out.Accounts {
			org.Accounts = append(org.Accounts, account.OrgAccount{
				ID: aws.ToString(a.Id), Name: aws.ToString(a.Name), Status: string(a.Status),
			})
		}
	}
	slices.SortFunc(org.Accounts, func(a, b account.OrgAccount) int { return strings.Compare(a.ID, b.ID) })
	return org
}
