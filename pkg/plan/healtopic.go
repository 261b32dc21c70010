package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/watchkeeper/watchkeeper/pkg/account"
)

// planTopic plans Watchkeeper's topic, its subscriptions and its key for
// the controls whose alarm notifies it (topicUsers).
func (p *planner) planTopic(topicUsers []string) {
	topicARN := p.topicARN()
	topic, seen := p.jd.s.Topics[topicARN]
	if seen && topic.Error != "" {
		for _, id := range topicUsers {
			p.note(id, "", fmt.Sprintf("Watchkeeper's topic %s could not be read (%s), so Watchkeeper neither creates it nor subscribes anyone to it this run", topicARN, topic.Error))
		}
		return
	}
	exists := seen && topic.Exists
	if len(topicUsers) == 0 && !exists {
		return
	}
	if len(topicUsers) == 0 {
		// Only configured endpoints or the key to mend: they serve every control.
		for _, f := range p.jd.Controls {
			if f.Status != StatusExcluded {
				topicUsers = append(topicUsers, f.Control.ID)
			}
		}
	}
	region := p.tg.lg.Region
	if !exists {
		p.planCreateTopic(topicARN, region, topicUsers)
	} else {
		p.planKey(topic, topicUsers)
	}
	p.planSubscriptions(topic, exists, topicARN, region, topicUsers)
}

func (p *planner) planCreateTopic(topicARN, region string, users []string) {
	key := p.opts.TopicKMSKeyID
	if kr := kmsKeyRegion(key); kr != "" && kr != region {
		// KMS keys are regional: SNS in region could not use a key of kr,
		// so every alarm notification to an encrypted topic would be
		// dropped. Of the two alternatives, creating the topic with SNS's
		// default (no server-side encryption) is the safer: the topic
		// carries alarm notifications, not the logs, and a topic that
		// delivers them keeps the account monitored, whereas no topic (or
		// an undeliverable one) leaves every control failing silently.
		p.warn(fmt.Sprintf("the configured topic key %s is in %s, but the topic %s is in %s and KMS keys are regional: Watchkeeper creates the topic without a customer managed key; configure a key in %s (whose policy lets cloudwatch.amazonaws.com use it) to encrypt it", key, kr, topicARN, region, region))
		key = ""
	}
	p.add(Action{
		Kind: CreateTopic, Region: region, Target: topicARN, Controls: users,
		Reason: "create the topic Watchkeeper's alarms notify",
		Topic:  &TopicSpec{Name: p.opts.TopicName, KMSKeyID: key, Tags: managedTags()},
	})
	if k := p.opts.TopicKMSKeyID; k == "alias/aws/sns" || strings.HasSuffix(k, ":alias/aws/sns") {
		p.warn(fmt.Sprintf("the configured topic key %s is the AWS managed SNS key, whose policy CloudWatch cannot use: every alarm notification to %s would be dropped; configure a customer managed key whose policy lets cloudwatch.amazonaws.com call kms:GenerateDataKey* and kms:Decrypt", k, topicARN))
	}
}

// planKey restores the topic's key when it is disabled or scheduled for
// deletion, but only the key Watchkeeper is configured with: any other key
// is a person's, and is only reported. CancelKeyDeletion leaves the key
// Disabled (AWS KMS API reference, CancelKeyDeletion: "the KMS key is in the
// Disabled state"), so EnableKey follows it.
func (p *planner) planKey(t account.Topic, users []string) {
	k := t.KMS
	if k == nil || (k.KeyState != "Disabled" && k.KeyState != "PendingDeletion") {
		return
	}
	cfg := p.opts.TopicKMSKeyID
	configured := cfg != "" && k.KeyARN != "" && (cfg == t.KMSKeyID || cfg == k.KeyARN)
	if !configured {
		for _, id := range users {
			p.note(id, "", fmt.Sprintf("Watchkeeper restores only the KMS key it is configured with (--topic-kms-key, WATCHKEEPER_TOPIC_KMS_KEY); key %s of topic %s is %s, so re-enable it with aws kms cancel-key-deletion and aws kms enable-key --key-id %s", orName(k.KeyARN, t.KMSKeyID), t.ARN, k.KeyState, orName(k.KeyARN, t.KMSKeyID)))
		}
		return
	}
	region := arnRegion(k.KeyARN)
	if k.KeyState == "PendingDeletion" {
		p.add(Action{Kind: CancelKeyDeletion, Region: region, Target: k.KeyARN, Controls: users,
			Reason: fmt.Sprintf("the key of Watchkeeper's topic %s is scheduled for deletion", t.ARN), KMSKey: &KeySpec{KeyARN: k.KeyARN}})
	}
	p.add(Action{Kind: EnableKey, Region: region, Target: k.KeyARN, Controls: users,
		Reason: fmt.Sprintf("the key of Watchkeeper's topic %s is %s, so SNS drops every alarm notification", t.ARN, k.KeyState), KMSKey: &KeySpec{KeyARN: k.KeyARN}})
}

func orName(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// planSubscriptions subscribes the configured endpoints that are not yet
// subscribed (a pending subscription counts: never re-subscribe, never
// duplicate), and says when no one at all would be notified.
func (p *planner) planSubscriptions(topic account.Topic, exists bool, topicARN, region string, users []string) {
	subscribed := 0
	var configured []Endpoint
	for _, e := range p.opts.Subscriptions {
		if e.Endpoint == "" || slices.ContainsFunc(configured, func(s Endpoint) bool { return sameEndpoint(s, e) }) {
			continue
		}
		configured = append(configured, e)
		subscribed++
		if exists && slices.ContainsFunc(topic.Subscriptions, func(s account.Subscription) bool {
			return s.ARN != "Deleted" && sameEndpoint(Endpoint{Protocol: s.Protocol, Endpoint: s.Endpoint}, e)
		}) {
			continue
		}
		p.add(Action{
			Kind: Subscribe, Region: region, Target: topicARN, Controls: users,
			Reason:       fmt.Sprintf("subscribe configured endpoint %s:%s", e.Protocol, e.Endpoint),
			Subscription: &SubscriptionSpec{TopicARN: topicARN, Protocol: e.Protocol, Endpoint: e.Endpoint},
		})
	}
	if exists {
		for _, s := range topic.Subscriptions {
			if s.ARN != "Deleted" {
				subscribed++
			}
		}
	}
	if subscribed == 0 {
		for _, id := range users {
			p.note(id, CodeSubscriptionNotPresent, fmt.Sprintf("Watchkeeper's topic %s has no subscription and none is configured, so no one would be notified; configure one (WATCHKEEPER_SUBSCRIPTIONS=email:security@example.com or --subscribe email:security@example.com)", topicARN))
		}
	}
}

func sameEndpoint(a, b Endpoint) bool {
	return strings.EqualFold(a.Protocol, b.Protocol) && a.Endpoint == b.Endpoint
}
