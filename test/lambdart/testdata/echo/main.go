// Command echo is a minimal aws-lambda-go function for lambdart's tests: it
// echoes its event, fails on {"fail":true}, and reports its deadline.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type out struct {
	Event       json.RawMessage `json:"event"`
	RequestID   string          `json:"requestId"`
	FunctionARN string          `json:"functionArn"`
	DeadlineIn  int64           `json:"deadlineInMs"`
}

func main() {
	lambda.Start(func(ctx context.Context, ev json.RawMessage) (out, error) {
		var in struct{ Fail bool }
		_ = json.Unmarshal(ev, &in)
		if in.Fail {
			return out{}, errors.New("asked to fail")
		}
		lc, _ := lambdacontext.FromContext(ctx)
		dl, _ := ctx.Deadline()
		return out{Event: ev, RequestID: lc.AwsRequestID, FunctionARN: lc.InvokedFunctionArn, DeadlineIn: time.Until(dl).Milliseconds()}, nil
	})
}
