package inspect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/watchkeeper/watchkeeper/pkg/account"
)

// topicsOf starts reading every SNS topic a's actions notify.
func (o *observation) topicsOf(ctx context.Context, wg *sync.WaitGroup, a account.Alarm) {
	for _, action := range a.AlarmActions {
		if a, err := arn.Parse(action); err == nil && a.Service == "sns" {
			o.readTopic(ctx, wg, action, false)
		}
	}
}

// configuredTopic starts reading Watchkeeper's topic in region (the home
// region, and each region holding a candidate log group of the caller's
// account), so the planner reuses it instead of creating it twice. In a
// compliant account it is the topic the alarms notify, read once. A
// configured topic that does not exist is left out of the snapshot.
func (o *observation) configuredTopic(ctx context.Context, wg *sync.WaitGroup, region string) {
	topicARN := arn.ARN{Partition: o.partition, Service: "sns", Region: region, AccountID: o.account, Resource: o.in.opts.TopicName}
	o.readTopic(ctx, wg, topicARN.String(), true)
}

// readTopic reads a topic once per observation, concurrently with the
// caller: its attributes and subscriptions together, then its KMS key.
func (o *observation) readTopic(ctx context.Context, wg *sync.WaitGroup, topicARN string, dropIfMissing bool) {
	o.mu.Lock()
	if _, ok := o.topics[topicARN]; ok {
		o.mu.Unlock()
		return
	}
	a, _ := arn.Parse(topicARN) // the zero ARN when malformed
	t := &account.Topic{
		ARN:           topicARN,
		Region:        a.Region,
		Account:       a.AccountID,
		Subscriptions: []account.Subscription{},
	}
	o.topics[topicARN] = t
	o.mu.Unlock()
	wg.Go(func() {
		o.fillTopic(ctx, t)
		if dropIfMissing && !t.Exists && t.Error == "" {
			o.mu.Lock()
			delete(o.topics, topicARN)
			o.mu.Unlock()
		}
	})
}

func (o *observation) fillTopic(ctx context.Context, t *account.Topic) {
	if t.Region == "" {
		t.Error = fmt.Sprintf("malformed SNS topic ARN %q", t.ARN)
		return
	}
	c := o.clients(t.Account, t.Region).SNS
	var (
		attrs            *sns.GetTopicAttributesOutput
		attrErr, subsErr error
		subs             []account.Subscription
		wg               sync.WaitGroup
	)
	wg.Go(func() {
		attrErr = o.call(ctx, func() (err error) {
			attrs, err = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(t.ARN)})
			return err
		})
	})
	wg.Go(func() {
		p := sns.NewListSubscriptionsByTopicPaginator(c, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(t.ARN)})
		for p.HasMorePages() && subsErr == nil {
			subsErr = o.call(ctx, func() error {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				for _, s := range out.Subscriptions {
					subs = append(subs, account.Subscription{
						ARN:      aws.ToString(s.SubscriptionArn),
						Protocol: aws.ToString(s.Protocol),
						Endpoint: aws.ToString(s.Endpoint),
					})
				}
				return nil
			})
		}
	})
	wg.Wait()
	var notFound *snstypes.NotFoundException
	switch {
	case errors.As(attrErr, &notFound):
		t.Exists = false
		return
	case attrErr != nil:
		t.Error = "get topic attributes: " + cause(attrErr)
		return
	case subsErr != nil:
		t.Exists = true
		t.Error = "list subscriptions: " + cause(subsErr)
		return
	}
	t.Exists = true
	t.Subscriptions = append(t.Subscriptions, subs...)
	for _, s := range subs {
		if s.Confirmed() {
			t.ConfirmedSubscriptions++
		} else if s.ARN == "PendingConfirmation" {
			t.PendingSubscriptions++
		}
	}
	t.Policy = attrs.Attributes["Policy"]
	t.KMSKeyID = attrs.Attributes["KmsMasterKeyId"]
	if t.KMSKeyID != "" {
		t.KMS = o.topicKey(ctx, t)
	}
}

// topicKey reads an encrypted topic's KMS key: SNS encrypts with it, so
// CloudWatch (which publishes alarm notifications) must be able to use it,
// or every notification is silently dropped. The inspector records what it
// sees (KeyState, the key policy, whether AWS manages the key); the planner
// judges it.
func (o *observation) topicKey(ctx context.Context, t *account.Topic) *account.TopicKey {
	ref := t.KMSKeyID
	region, keyAccount := t.Region, t.Account
	k := &account.TopicKey{}
	resource := ref
	if a, err := arn.Parse(ref); err == nil && a.Service == "kms" {
		region, keyAccount, resource = a.Region, a.AccountID, a.Resource
		k.KeyARN = ref
	}
	isAlias := strings.HasPrefix(resource, "alias/")
	if isAlias {
		k.KeyARN = ""
	}
	// Aliases beginning alias/aws/ are reserved for AWS managed keys (AWS
	// KMS developer guide, "Aliases in AWS KMS"), whose policies cannot be
	// changed to admit CloudWatch: their policy is not read.
	k.AWSManaged = strings.HasPrefix(resource, "alias/aws/")
	crossAccount := !o.readable(keyAccount)
	c := o.clients(keyAccount, region).KMS

	var (
		meta            *kms.DescribeKeyOutput
		policy          *kms.GetKeyPolicyOutput
		descErr, polErr error
		wg              sync.WaitGroup
		readPolicy      = func(keyID string) {
			polErr = o.call(ctx, func() (err error) {
				policy, err = c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(keyID), PolicyName: aws.String("default")})
				return err
			})
		}
	)
	// DescribeKey always: the key's state (disabled, pending deletion)
	// decides delivery whoever owns it.
	wg.Go(func() {
		descErr = o.call(ctx, func() (err error) {
			meta, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref)})
			return err
		})
	})
	// GetKeyPolicy takes a key id or ARN, not an alias, and works only in
	// the key's own keyAccount (AWS KMS API reference, GetKeyPolicy). For a
	// key named directly both calls run at once; an alias is resolved first.
	if !isAlias && !crossAccount && !k.AWSManaged {
		wg.Go(func() { readPolicy(ref) })
	}
	wg.Wait()
	if descErr != nil {
		if k.AWSManaged {
			return k // the verdict does not depend on the key's details
		}
		k.Error = "describe key: " + cause(descErr)
		return k
	}
	k.KeyARN = aws.ToString(meta.KeyMetadata.Arn)
	k.KeyState = string(meta.KeyMetadata.KeyState)
	if meta.KeyMetadata.KeyManager == kmstypes.KeyManagerTypeAws {
		k.AWSManaged = true
	}
	switch {
	case k.AWSManaged:
		return k
	case crossAccount:
		k.Error = fmt.Sprintf("key %s is in keyAccount %s: its policy can be read only in that keyAccount", k.KeyARN, keyAccount)
		return k
	case isAlias:
		readPolicy(k.KeyARN)
	}
	if polErr != nil {
		k.Error = "get key policy: " + cause(polErr)
		return k
	}
	k.Policy = aws.ToString(policy.Policy)
	return k
}
