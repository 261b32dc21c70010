package world

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The module pins no S3 or IAM SDK client (the product never calls them),
// so World makes the two calls it needs for trails (s3:CreateBucket and
// iam:CreateRole) as plain SigV4-signed HTTP requests to the configured
// endpoint. Both follow the public wire formats:
//   - CreateBucket: PUT /BUCKET, path style, with a CreateBucketConfiguration
//     body outside us-east-1
//     (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html);
//   - CreateRole: Query protocol POST, Version 2010-05-08
//     (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html).

// rawError is an AWS error decoded from an XML error body (S3's <Error> or
// the Query protocol's <ErrorResponse><Error>).
type rawError struct {
	Status  int
	Code    string
	Message string
}

func (e *rawError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

func (w *World) createBucket(ctx context.Context, cfg aws.Config, bucket string) error {
	var body []byte
	if cfg.Region != "us-east-1" {
		body = fmt.Appendf(nil, `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>`, cfg.Region)
	}
	err := signedCall(ctx, cfg, "s3", http.MethodPut, "/"+bucket, "", body)
	var re *rawError
	if errors.As(err, &re) && re.Code == "BucketAlreadyOwnedByYou" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create bucket %s in %s: %w", bucket, cfg.Region, err)
	}
	return nil
}

// Role creates an IAM role that service (e.g. "cloudtrail.amazonaws.com")
// may assume, or reuses an existing one of that name, and returns its ARN.
func (w *World) Role(ctx context.Context, name, service string) (string, error) {
	acct, part, err := w.identity(ctx)
	if err != nil {
		return "", err
	}
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":%q},"Action":"sts:AssumeRole"}]}`, service)
	form := url.Values{
		"Action":                   {"CreateRole"},
		"Version":                  {"2010-05-08"},
		"RoleName":                 {name},
		"AssumeRolePolicyDocument": {trust},
	}
	err = signedCall(ctx, w.cfg("us-east-1"), "iam", http.MethodPost, "/", "application/x-www-form-urlencoded", []byte(form.Encode()))
	var re *rawError
	if err != nil && !(errors.As(err, &re) && re.Code == "EntityAlreadyExists") {
		return "", fmt.Errorf("create role %s: %w", name, err)
	}
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", part, acct, name), nil
}

// signedCall sends one SigV4-signed request to cfg's BaseEndpoint.
func signedCall(ctx context.Context, cfg aws.Config, service, method, path, contentType string, body []byte) error {
	if cfg.BaseEndpoint == nil {
		return errors.New("world needs an aws.Config with BaseEndpoint (an emulator) for S3 and IAM calls")
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(*cfg.BaseEndpoint, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("retrieve credentials: %w", err)
	}
	region := cfg.Region
	if service == "iam" {
		region = "us-east-1" // IAM is global; it signs for us-east-1
	}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hash, service, region, time.Now()); err != nil {
		return fmt.Errorf("sign %s request: %w", service, err)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, service, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 300 {
		return nil
	}
	var doc struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
		Inner   struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
	}
	_ = xml.Unmarshal(data, &doc)
	re := &rawError{Status: resp.StatusCode, Code: doc.Code, Message: doc.Message}
	if re.Code == "" {
		re.Code, re.Message = doc.Inner.Code, doc.Inner.Message
	}
	return re
}
