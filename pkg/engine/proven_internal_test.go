package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// fakeGlobal answers GetCallerIdentity and DescribeRegions from fields,
// failing the calls listed in fail, and counts the calls.
type fakeGlobal struct {
	identityCalls, regionCalls int
	fail                       map[int]bool // call number (both kinds, from 1) -> throttle it
}

func (f *fakeGlobal) err(n int) error {
	if f.fail[n] {
		return &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
	}
	return nil
}

func (f *fakeGlobal) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	f.identityCalls++
	if err := f.err(f.identityCalls + f.regionCalls); err != nil {
		return nil, err
	}
	return &sts.GetCallerIdentityOutput{Account: aws.String("123456789012")}, nil
}

func (f *fakeGlobal) DescribeRegions(_ context.Context, in *ec2.DescribeRegionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
	f.regionCalls++
	if err := f.err(f.identityCalls + f.regionCalls); err != nil {
		return nil, err
	}
	return &ec2.DescribeRegionsOutput{Regions: []ec2types.Region{{RegionName: aws.String("us-east-1"), OptInStatus: aws.String("opt-in-not-required")}}}, nil
}

// TestProvenReusesFirstAnswers checks that within a run identity and the
// Region list are read once, that a failed read is not remembered, and
// that a narrower listing is never answered from the whole one.
func TestProvenReusesFirstAnswers(t *testing.T) {
	ctx := t.Context()
	all := &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)}

	t.Run("second observation asks nothing", func(t *testing.T) {
		f := &fakeGlobal{}
		p := newProven(f, f)
		for range 2 {
			if _, err := p.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
				t.Fatal(err)
			}
			if _, err := p.DescribeRegions(ctx, all); err != nil {
				t.Fatal(err)
			}
		}
		if f.identityCalls != 1 || f.regionCalls != 1 {
			t.Errorf("calls: identity %d, regions %d; want 1 each", f.identityCalls, f.regionCalls)
		}
	})
	t.Run("a failed read is asked again", func(t *testing.T) {
		f := &fakeGlobal{fail: map[int]bool{1: true, 2: true}}
		p := newProven(f, f)
		if _, err := p.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
			t.Fatal("the first identity read should fail")
		}
		if _, err := p.DescribeRegions(ctx, all); err == nil {
			t.Fatal("the first region listing should fail")
		}
		out, err := p.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil || aws.ToString(out.Account) != "123456789012" {
			t.Fatalf("second identity read: %v %v", out, err)
		}
		if _, err := p.DescribeRegions(ctx, all); err != nil {
			t.Fatalf("second region listing: %v", err)
		}
		if f.identityCalls != 2 || f.regionCalls != 2 {
			t.Errorf("calls: identity %d, regions %d; want 2 each", f.identityCalls, f.regionCalls)
		}
	})
	t.Run("other listings are sent", func(t *testing.T) {
		f := &fakeGlobal{}
		p := newProven(f, f)
		for _, in := range []*ec2.DescribeRegionsInput{all, {}, {RegionNames: []string{"eu-west-1"}}, all} {
			if _, err := p.DescribeRegions(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		if f.regionCalls != 3 {
			t.Errorf("%d listings sent, want 3 (all regions once, enabled only, one named)", f.regionCalls)
		}
	})
	t.Run("errors pass through unchanged", func(t *testing.T) {
		f := &fakeGlobal{fail: map[int]bool{1: true}}
		_, err := newProven(f, f).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "Throttling" {
			t.Errorf("error %v, want the Throttling API error", err)
		}
	})
}
