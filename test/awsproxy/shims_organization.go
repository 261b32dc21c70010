package awsproxy

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/watchkeeper/watchkeeper/test/moto"
)

// ShimOrganizationTrails shows a member account the organization trails of
// its organization's management account in DescribeTrails, as AWS does and
// moto 5.2.1 does not (moto lists only the caller's own trails).
//
// AWS (CloudTrail User Guide, "Creating a trail for an organization"):
// organization trails "log events for the management account and all member
// accounts in the organization", and users in member accounts can see the
// organization trail (its ARN names the management account) but cannot
// modify or delete it; DescribeTrails in a member therefore returns it,
// with IsOrganizationTrail true and the owner's CloudWatchLogsLogGroupArn.
//
// The management account is moto's default account (moto.Config's static
// credentials, which the organization's tests create it with). The caller
// is known by its access key: the shim records the temporary keys STS
// AssumeRole hands out through the proxy (a role ARN names its account, and
// moto issues the key in that account), so member credentials must be
// obtained through the proxy. Only callers that ListAccounts names as
// members see the trails; the management account sees its own as before.
func (p *Proxy) ShimOrganizationTrails() {
	keys := &keyBook{m: map[string]string{}}
	p.Handle(ServiceSTS, "AssumeRole", keys.record)
	p.Handle(ServiceCloudTrail, "DescribeTrails", func(req *Request, next Next) (*Response, error) {
		return p.addOrganizationTrails(req, next, keys.account(req))
	})
}

// keyBook maps the temporary access keys AssumeRole issued to their account.
type keyBook struct {
	mu sync.Mutex
	m  map[string]string
}

// assumeRoleXML is the part of an AssumeRole answer the shim reads.
type assumeRoleXML struct {
	Result struct {
		Credentials struct {
			AccessKeyID string `xml:"AccessKeyId"`
		} `xml:"Credentials"`
		User struct {
			ARN string `xml:"Arn"`
		} `xml:"AssumedRoleUser"`
	} `xml:"AssumeRoleResult"`
}

func (k *keyBook) record(_ *Request, next Next) (*Response, error) {
	resp, err := next()
	if err != nil || resp.StatusCode != 200 {
		return resp, err
	}
	var out assumeRoleXML
	if xml.Unmarshal(resp.Body, &out) != nil {
		return resp, nil
	}
	if a, err := arn.Parse(out.Result.User.ARN); err == nil && out.Result.Credentials.AccessKeyID != "" {
		k.mu.Lock()
		k.m[out.Result.Credentials.AccessKeyID] = a.AccountID
		k.mu.Unlock()
	}
	return resp, nil
}

// account is the account of req's access key, "" when the shim has not
// seen it issued (moto's default account).
func (k *keyBook) account(req *Request) string {
	_, after, ok := strings.Cut(req.HTTP.Header.Get("Authorization"), "Credential=")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(after, "/")
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.m[key]
}

func (p *Proxy) addOrganizationTrails(req *Request, next Next, caller string) (*Response, error) {
	resp, err := next()
	if err != nil || resp.StatusCode != 200 || caller == "" {
		return resp, err
	}
	ctx := req.HTTP.Context()
	mgmt := moto.Config(p.Target(), req.Region)
	var members []string
	pages := organizations.NewListAccountsPaginator(organizations.NewFromConfig(mgmt), &organizations.ListAccountsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return resp, nil // no organization: nothing to show
		}
		for _, a := range page.Accounts {
			members = append(members, aws.ToString(a.Id))
		}
	}
	if !slices.Contains(members, caller) {
		return resp, nil
	}
	own, err := cloudtrail.NewFromConfig(mgmt).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("describe the management account's trails: %w", err)
	}
	var body struct {
		TrailList []json.RawMessage `json:"trailList"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		return nil, fmt.Errorf("decode DescribeTrails: %w", err)
	}
	for _, t := range own.TrailList {
		if !aws.ToBool(t.IsOrganizationTrail) || strings.Contains(string(resp.Body), aws.ToString(t.TrailARN)) {
			continue
		}
		b, err := json.Marshal(wireTrail(t))
		if err != nil {
			return nil, fmt.Errorf("encode trail: %w", err)
		}
		body.TrailList = append(body.TrailList, b)
	}
	if body.TrailList == nil {
		body.TrailList = []json.RawMessage{}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode DescribeTrails: %w", err)
	}
	resp.Body = b
	return resp, nil
}

// wireTrail is t in DescribeTrails' JSON member names (CloudTrail API
// reference, Trail), absent members omitted.
func wireTrail(t cttypes.Trail) map[string]any {
	m := map[string]any{}
	put := func(k string, v any) {
		switch x := v.(type) {
		case *string:
			if x != nil {
				m[k] = *x
			}
		case *bool:
			if x != nil {
				m[k] = *x
			}
		}
	}
	put("Name", t.Name)
	put("S3BucketName", t.S3BucketName)
	put("S3KeyPrefix", t.S3KeyPrefix)
	put("IncludeGlobalServiceEvents", t.IncludeGlobalServiceEvents)
	put("IsMultiRegionTrail", t.IsMultiRegionTrail)
	put("HomeRegion", t.HomeRegion)
	put("TrailARN", t.TrailARN)
	put("LogFileValidationEnabled", t.LogFileValidationEnabled)
	put("CloudWatchLogsLogGroupArn", t.CloudWatchLogsLogGroupArn)
	put("CloudWatchLogsRoleArn", t.CloudWatchLogsRoleArn)
	put("KmsKeyId", t.KmsKeyId)
	put("HasCustomEventSelectors", t.HasCustomEventSelectors)
	put("HasInsightSelectors", t.HasInsightSelectors)
	put("IsOrganizationTrail", t.IsOrganizationTrail)
	return m
}
