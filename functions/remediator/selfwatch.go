package main

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/watchkeeper/watchkeeper/pkg/selfwatch"
)

// ruleAPI is the part of the EventBridge API the own-rule check calls: the
// function's policy grants events:DescribeRule and (healing deployments)
// events:EnableRule on exactly the stack's own rule ARNs.
type ruleAPI interface {
	DescribeRule(ctx context.Context, in *eventbridge.DescribeRuleInput, opts ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error)
	EnableRule(ctx context.Context, in *eventbridge.EnableRuleInput, opts ...func(*eventbridge.Options)) (*eventbridge.EnableRuleOutput, error)
}

var _ ruleAPI = (*eventbridge.Client)(nil)

// eventRules adapts EventBridge's default event bus to selfwatch.Client.
type eventRules struct{ api ruleAPI }

var _ selfwatch.Client = eventRules{}

// Enabled reports whether the rule is in any state but DISABLED (a rule
// may also be ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS).
func (e eventRules) Enabled(ctx context.Context, name string) (bool, error) {
	out, err := e.api.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name)})
	if err != nil {
		return false, notFound(err)
	}
	return out.State != ebtypes.RuleStateDisabled, nil
}

// Enable enables the rule.
func (e eventRules) Enable(ctx context.Context, name string) error {
	_, err := e.api.EnableRule(ctx, &eventbridge.EnableRuleInput{Name: aws.String(name)})
	return notFound(err)
}

// notFound maps EventBridge's ResourceNotFoundException to
// selfwatch.ErrNotFound, by type.
func notFound(err error) error {
	var nf *ebtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return errors.Join(selfwatch.ErrNotFound, err)
	}
	return err
}
