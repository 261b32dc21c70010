// Package world seeds AWS state for tests, the demo and the benchmark. It
// builds resources through the real AWS SDK (normally against moto_server,
// see test/moto), so what a test seeds is exactly what the product later
// reads back through the same protocols.
//
// Typical use:
//
//	srv := moto.Start(t)
//	w := world.New(srv.Config)
//	acct, err := w.Compliant(t.Context(), world.CompliantSpec{HomeRegion: "us-east-1", Benchmark: catalog.Default()})
//
// Every method is safe to call concurrently. Creation is idempotent where
// the AWS API allows (CreateLogGroup, CreateTopic, buckets and roles that
// already exist are reused). Seeding the same trail twice is an error on AWS
// (TrailAlreadyExistsException) but moto 5.2.1 silently replaces the trail,
// so scenarios should not rely on either.
//
// World never reads the environment: the cfg function decides endpoints,
// credentials and regions, which keeps tests hermetic.
package world

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/watchkeeper/watchkeeper/pkg/catalog"
)

// Defaults used when a spec leaves a field empty. They match the names in
// docs/contracts.md, so a Compliant world looks like one Watchkeeper left.
const (
	DefaultNamespace = "CISBenchmark"
	DefaultPrefix    = "watchkeeper-"
	DefaultTopicName = "watchkeeper-cis-alarms"
	DefaultTrailName = "management-events"
	// DefaultLogGroupName is the log group a Compliant world's trail delivers to.
	DefaultLogGroupName = "/aws/cloudtrail/management-events"
	// ManagedByTag is the tag Watchkeeper puts on what it creates.
	ManagedByTag   = "ManagedBy"
	ManagedByValue = "watchkeeper"
)

// World creates resources in one account through per-region SDK configs.
type World struct {
	cfg func(region string) aws.Config

	mu      sync.Mutex
	account string
	part    string
}

// New returns a World that builds clients from cfg (for moto tests,
// srv.Config). The account id is read lazily from STS.
func New(cfg func(region string) aws.Config) *World {
	return &World{cfg: cfg}
}

// Account returns the caller's account id (sts:GetCallerIdentity, cached).
func (w *World) Account(ctx context.Context) (string, error) {
	acct, _, err := w.identity(ctx)
	return acct, err
}

// identity returns the account id and partition of the caller.
func (w *World) identity(ctx context.Context) (account, partition string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.account != "" {
		return w.account, w.part, nil
	}
	out, err := sts.NewFromConfig(w.cfg("us-east-1")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", "", fmt.Errorf("get caller identity: %w", err)
	}
	w.account = aws.ToString(out.Account)
	w.part = "aws"
	if parts := strings.SplitN(aws.ToString(out.Arn), ":", 3); len(parts) == 3 && parts[1] != "" {
		w.part = parts[1]
	}
	return w.account, w.part, nil
}

// TrailSpec describes a CloudTrail trail to create.
type TrailSpec struct {
	// Name is the trail name (required).
	Name string
	// HomeRegion is where the trail is created (required).
	HomeRegion string
	// SingleRegion makes a single-region trail; the zero value is a
	// multi-region trail, as the benchmark requires.
	SingleRegion bool
	// Organization marks the trail as an organization trail.
	Organization bool
	// LogGroupName, if set, is created in HomeRegion and the trail delivers
	// to it through a CloudWatch Logs role; "" means no CloudWatch Logs.
	LogGroupName string
	// LogGroupARN, if set, is used as the trail's log group as is (e.g. a
	// log group in another account) instead of creating LogGroupName.
	LogGroupARN string
	// NotLogging leaves the trail stopped; by default logging is started.
	NotLogging bool
	// Classic and Advanced are the event selectors. When both are empty the
	// trail gets AWS's default for a new trail: all management events,
	// read and write.
	Classic  []cttypes.EventSelector
	Advanced []cttypes.AdvancedEventSelector
	// Bucket is the S3 bucket for log files; "" derives one from the name,
	// account and region. It is created if missing.
	Bucket string
}

// Trail is what Trail created.
type Trail struct {
	ARN        string
	Name       string
	HomeRegion string
	Bucket     string
	// LogGroupName and LogGroupARN (without ":*") are empty when the trail
	// does not deliver to CloudWatch Logs.
	LogGroupName string
	LogGroupARN  string
	RoleARN      string
}

// Trail creates a trail as spec says: its bucket, log group and CloudWatch
// Logs delivery role when needed, the trail itself, its event selectors,
// and starts logging unless spec.NotLogging.
func (w *World) Trail(ctx context.Context, spec TrailSpec) (Trail, error) {
	if spec.Name == "" || spec.HomeRegion == "" {
		return Trail{}, errors.New("trail spec needs Name and HomeRegion")
	}
	acct, part, err := w.identity(ctx)
	if err != nil {
		return Trail{}, err
	}
	cfg := w.cfg(spec.HomeRegion)
	t := Trail{Name: spec.Name, HomeRegion: spec.HomeRegion, Bucket: spec.Bucket}
	if t.Bucket == "" {
		t.Bucket = strings.ToLower(fmt.Sprintf("trail-%s-%s-%s", spec.Name, acct, spec.HomeRegion))
	}
	if err := w.createBucket(ctx, cfg, t.Bucket); err != nil {
		return Trail{}, err
	}
	in := &cloudtrail.CreateTrailInput{
		Name:                       aws.String(spec.Name),
		S3BucketName:               aws.String(t.Bucket),
		IsMultiRegionTrail:         aws.Bool(!spec.SingleRegion),
		IncludeGlobalServiceEvents: aws.Bool(true),
		IsOrganizationTrail:        aws.Bool(spec.Organization),
	}
	switch {
	case spec.LogGroupARN != "":
		t.LogGroupARN = strings.TrimSuffix(spec.LogGroupARN, ":*")
		t.LogGroupName = logGroupNameFromARN(t.LogGroupARN)
	case spec.LogGroupName != "":
		if err := w.LogGroup(ctx, spec.HomeRegion, spec.LogGroupName); err != nil {
			return Trail{}, err
		}
		t.LogGroupName = spec.LogGroupName
		t.LogGroupARN = fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", part, spec.HomeRegion, acct, spec.LogGroupName)
	}
	if t.LogGroupARN != "" {
		role, err := w.Role(ctx, "CloudTrailToCloudWatchLogs-"+spec.Name, "cloudtrail.amazonaws.com")
		if err != nil {
			return Trail{}, err
		}
		t.RoleARN = role
		in.CloudWatchLogsLogGroupArn = aws.String(t.LogGroupARN + ":*")
		in.CloudWatchLogsRoleArn = aws.String(role)
	}
	ct := cloudtrail.NewFromConfig(cfg)
	out, err := ct.CreateTrail(ctx, in)
	if err != nil {
		return Trail{}, fmt.Errorf("create trail %s in %s: %w", spec.Name, spec.HomeRegion, err)
	}
	t.ARN = aws.ToString(out.TrailARN)
	sel := &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(spec.Name)}
	switch {
	case len(spec.Advanced) > 0:
		sel.AdvancedEventSelectors = spec.Advanced
	case len(spec.Classic) > 0:
		sel.EventSelectors = spec.Classic
	default:
		sel.EventSelectors = []cttypes.EventSelector{{
			ReadWriteType:           cttypes.ReadWriteTypeAll,
			IncludeManagementEvents: aws.Bool(true),
		}}
	}
	if _, err := ct.PutEventSelectors(ctx, sel); err != nil {
		return Trail{}, fmt.Errorf("put event selectors on %s: %w", spec.Name, err)
	}
	if !spec.NotLogging {
		if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(spec.Name)}); err != nil {
			return Trail{}, fmt.Errorf("start logging %s: %w", spec.Name, err)
		}
	}
	return t, nil
}

// LogGroup creates a log group, or does nothing if it exists.
func (w *World) LogGroup(ctx context.Context, region, name string) error {
	_, err := cloudwatchlogs.NewFromConfig(w.cfg(region)).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{
		LogGroupName: aws.String(name),
	})
	var exists *logtypes.ResourceAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("create log group %s in %s: %w", name, region, err)
	}
	return nil
}

// Topic creates an SNS topic (or finds the existing one of that name) and
// subscribes each endpoint, given as "PROTOCOL:ENDPOINT" (e.g.
// "email:sec@example.com", "https:https://hooks.example.com/x"). It returns
// the topic ARN.
func (w *World) Topic(ctx context.Context, region, name string, endpoints ...string) (string, error) {
	return w.topic(ctx, region, name, nil, endpoints)
}

// EncryptedTopic is Topic with server-side encryption under kmsKeyID (a key
// id, ARN or alias such as "alias/aws/sns").
func (w *World) EncryptedTopic(ctx context.Context, region, name, kmsKeyID string, endpoints ...string) (string, error) {
	return w.topic(ctx, region, name, map[string]string{"KmsMasterKeyId": kmsKeyID}, endpoints)
}

func (w *World) topic(ctx context.Context, region, name string, attrs map[string]string, endpoints []string, tags ...snstypes.Tag) (string, error) {
	c := sns.NewFromConfig(w.cfg(region))
	out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name), Attributes: attrs, Tags: tags})
	if err != nil {
		return "", fmt.Errorf("create topic %s in %s: %w", name, region, err)
	}
	arn := aws.ToString(out.TopicArn)
	for _, e := range endpoints {
		proto, endpoint, ok := strings.Cut(e, ":")
		if !ok || proto == "" || endpoint == "" {
			return "", fmt.Errorf("subscription %q: want PROTOCOL:ENDPOINT", e)
		}
		if _, err := c.Subscribe(ctx, &sns.SubscribeInput{
			TopicArn: aws.String(arn), Protocol: aws.String(proto), Endpoint: aws.String(endpoint),
		}); err != nil {
			return "", fmt.Errorf("subscribe %s to %s: %w", e, arn, err)
		}
	}
	return arn, nil
}

// Key creates a customer managed KMS key in region with the given key
// policy ("" = AWS's default policy) and returns its ARN.
func (w *World) Key(ctx context.Context, region, policy string) (string, error) {
	in := &kms.CreateKeyInput{Description: aws.String("watchkeeper test key")}
	if policy != "" {
		in.Policy = aws.String(policy)
	}
	out, err := kms.NewFromConfig(w.cfg(region)).CreateKey(ctx, in)
	if err != nil {
		return "", fmt.Errorf("create key in %s: %w", region, err)
	}
	return aws.ToString(out.KeyMetadata.Arn), nil
}

// ControlFilters puts one metric filter per control of b on logGroup, as
// Watchkeeper writes them: named prefix+Key, pattern Control.PatternFor
// (profile), publishing Control.MetricName in namespace with value "1".
func (w *World) ControlFilters(ctx context.Context, region, logGroup string, b catalog.Benchmark, profile catalog.Profile, namespace, prefix string) error {
	if profile == "" {
		profile = catalog.ProfileBenchmark
	}
	c := cloudwatchlogs.NewFromConfig(w.cfg(region))
	return parallel(len(b.Controls), 8, func(i int) error {
		ctl := b.Controls[i]
		_, err := c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
			LogGroupName:  aws.String(logGroup),
			FilterName:    aws.String(prefix + ctl.Key),
			FilterPattern: aws.String(ctl.PatternFor(profile)),
			MetricTransformations: []logtypes.MetricTransformation{{
				MetricName:      aws.String(ctl.MetricName),
				MetricNamespace: aws.String(namespace),
				MetricValue:     aws.String("1"),
			}},
		})
		if err != nil {
			return fmt.Errorf("put metric filter %s%s on %s in %s: %w", prefix, ctl.Key, logGroup, region, err)
		}
		return nil
	})
}

// AlarmSpec returns the PutMetricAlarm input Watchkeeper uses for ctl
// (docs/contracts.md): Sum, 300 s, 1 evaluation period, >= 1, missing data
// not breaching, actions to topicARN, tagged ManagedBy=watchkeeper.
func AlarmSpec(ctl catalog.Control, namespace, prefix, topicARN string) *cloudwatch.PutMetricAlarmInput {
	return &cloudwatch.PutMetricAlarmInput{
		AlarmName:          aws.String(prefix + ctl.Key),
		AlarmDescription:   aws.String(fmt.Sprintf("CIS %s %s", ctl.ID, ctl.Title)),
		MetricName:         aws.String(ctl.MetricName),
		Namespace:          aws.String(namespace),
		Statistic:          cwtypes.StatisticSum,
		Period:             aws.Int32(300),
		EvaluationPeriods:  aws.Int32(1),
		Threshold:          aws.Float64(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
		TreatMissingData:   aws.String("notBreaching"),
		ActionsEnabled:     aws.Bool(true),
		AlarmActions:       []string{topicARN},
		Tags:               []cwtypes.Tag{{Key: aws.String(ManagedByTag), Value: aws.String(ManagedByValue)}},
	}
}

// ControlAlarms puts one alarm per control of b (see AlarmSpec).
func (w *World) ControlAlarms(ctx context.Context, region string, b catalog.Benchmark, namespace, prefix, topicARN string) error {
	c := cloudwatch.NewFromConfig(w.cfg(region))
	return parallel(len(b.Controls), 8, func(i int) error {
		in := AlarmSpec(b.Controls[i], namespace, prefix, topicARN)
		if _, err := c.PutMetricAlarm(ctx, in); err != nil {
			return fmt.Errorf("put metric alarm %s in %s: %w", aws.ToString(in.AlarmName), region, err)
		}
		return nil
	})
}

// CompliantSpec describes a fully compliant account. Zero values take the
// package defaults.
type CompliantSpec struct {
	// HomeRegion holds the trail, its log group, the filters, alarms and topic.
	HomeRegion string
	// Benchmark defaults to catalog.Default().
	Benchmark catalog.Benchmark
	// Profile defaults to catalog.ProfileBenchmark.
	Profile   catalog.Profile
	Namespace string // default DefaultNamespace
	Prefix    string // default DefaultPrefix
	TopicName string // default DefaultTopicName
	// Endpoints are subscribed to the topic; default "email:security@example.com".
	Endpoints    []string
	TrailName    string // default DefaultTrailName
	LogGroupName string // default DefaultLogGroupName
}

// Account is what Compliant created.
type Account struct {
	ID         string
	HomeRegion string
	Trail      Trail
	TopicARN   string
	Benchmark  catalog.Benchmark
	Namespace  string
	Prefix     string
}

// Compliant builds an account as Watchkeeper would leave it: an active
// multi-region trail with all management events delivering to a log group,
// one filter and one alarm per control, and a tagged topic with confirmed
// subscribers (moto confirms every subscription immediately).
func (w *World) Compliant(ctx context.Context, spec CompliantSpec) (Account, error) {
	if spec.HomeRegion == "" {
		return Account{}, errors.New("compliant spec needs HomeRegion")
	}
	if spec.Benchmark.ID == "" {
		spec.Benchmark = catalog.Default()
	}
	spec.Namespace = orDefault(spec.Namespace, DefaultNamespace)
	spec.Prefix = orDefault(spec.Prefix, DefaultPrefix)
	spec.TopicName = orDefault(spec.TopicName, DefaultTopicName)
	spec.TrailName = orDefault(spec.TrailName, DefaultTrailName)
	spec.LogGroupName = orDefault(spec.LogGroupName, DefaultLogGroupName)
	if len(spec.Endpoints) == 0 {
		spec.Endpoints = []string{"email:security@example.com"}
	}
	acct, err := w.Account(ctx)
	if err != nil {
		return Account{}, err
	}
	trail, err := w.Trail(ctx, TrailSpec{Name: spec.TrailName, HomeRegion: spec.HomeRegion, LogGroupName: spec.LogGroupName})
	if err != nil {
		return Account{}, err
	}
	topic, err := w.topic(ctx, spec.HomeRegion, spec.TopicName, nil, spec.Endpoints,
		snstypes.Tag{Key: aws.String(ManagedByTag), Value: aws.String(ManagedByValue)})
	if err != nil {
		return Account{}, err
	}
	if err := w.ControlFilters(ctx, spec.HomeRegion, spec.LogGroupName, spec.Benchmark, spec.Profile, spec.Namespace, spec.Prefix); err != nil {
		return Account{}, err
	}
	if err := w.ControlAlarms(ctx, spec.HomeRegion, spec.Benchmark, spec.Namespace, spec.Prefix, topic); err != nil {
		return Account{}, err
	}
	return Account{
		ID: acct, HomeRegion: spec.HomeRegion, Trail: trail, TopicARN: topic,
		Benchmark: spec.Benchmark, Namespace: spec.Namespace, Prefix: spec.Prefix,
	}, nil
}

// Noise names: unrelated resources are recognisable by these prefixes.
const (
	NoiseAlarmPrefix    = "noise-alarm-"
	NoiseLogGroupPrefix = "/noise/app-"
	NoiseFilterPrefix   = "noise-filter-"
	NoiseNamespace      = "Noise/App"
)

// Noise creates resources unrelated to the controls in region: alarms on
// unrelated metrics, log groups, and filtersPerGroup metric filters on each
// of those log groups. It runs concurrently so thousands seed quickly.
func (w *World) Noise(ctx context.Context, region string, alarms, logGroups, filtersPerGroup int) error {
	cw := cloudwatch.NewFromConfig(w.cfg(region))
	logs := cloudwatchlogs.NewFromConfig(w.cfg(region))
	err := parallel(alarms, 16, func(i int) error {
		_, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
			AlarmName:          aws.String(fmt.Sprintf("%s%05d", NoiseAlarmPrefix, i)),
			MetricName:         aws.String(fmt.Sprintf("Latency%d", i%97)),
			Namespace:          aws.String(NoiseNamespace),
			Statistic:          cwtypes.StatisticAverage,
			Period:             aws.Int32(60),
			EvaluationPeriods:  aws.Int32(3),
			Threshold:          aws.Float64(float64(100 + i)),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		})
		if err != nil {
			return fmt.Errorf("put noise alarm %d in %s: %w", i, region, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return parallel(logGroups, 8, func(g int) error {
		name := fmt.Sprintf("%s%03d", NoiseLogGroupPrefix, g)
		if err := w.LogGroup(ctx, region, name); err != nil {
			return err
		}
		for f := range filtersPerGroup {
			_, err := logs.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
				LogGroupName:  aws.String(name),
				FilterName:    aws.String(fmt.Sprintf("%s%03d", NoiseFilterPrefix, f)),
				FilterPattern: aws.String(`{ $.level = "ERROR" }`),
				MetricTransformations: []logtypes.MetricTransformation{{
					MetricName:      aws.String(fmt.Sprintf("Errors%d", f)),
					MetricNamespace: aws.String(NoiseNamespace),
					MetricValue:     aws.String("1"),
				}},
			})
			if err != nil {
				return fmt.Errorf("put noise filter on %s in %s: %w", name, region, err)
			}
		}
		return nil
	})
}

// parallel runs fn(0..n-1) on at most limit goroutines and joins the errors.
func parallel(n, limit int, fn func(i int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, limit)
	)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// logGroupNameFromARN returns the name in
// arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME, or "".
func logGroupNameFromARN(groupARN string) string {
	a, err := arn.Parse(groupARN)
	if err != nil {
		return ""
	}
	if name, ok := strings.CutPrefix(a.Resource, "log-group:"); ok {
		return name
	}
	return ""
}
