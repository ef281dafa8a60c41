package forward

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultReplayTTL is how long a claimed campus code is remembered. It
// must exceed a code's validity window (campus-code.md), after which the
// code is refused as expired anyway.
const DefaultReplayTTL = 24 * time.Hour

// SharedReplay is the campus-code replay record shared by several
// gateways: a JetStream key-value bucket where a code's key
// (account.generatedAt.counter) is created by the first gateway that
// accepts it. JetStream serialises the creates, so exactly one gateway
// wins a race and the others see the code as used.
type SharedReplay struct {
	nc  *nats.Conn
	own bool
	kv  jetstream.KeyValue
}

// NewSharedReplay connects and opens (creating it if absent) the bucket.
// ttl <= 0 means DefaultReplayTTL.
func NewSharedReplay(ctx context.Context, o NATSOptions, bucket string, ttl time.Duration) (*SharedReplay, error) {
	if bucket == "" {
		return nil, fmt.Errorf("%w: replay bucket name is required", ErrBadOptions)
	}
	if ttl <= 0 {
		ttl = DefaultReplayTTL
	}
	nc, own, err := o.connect()
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*SharedReplay, error) {
		if own {
			nc.Close()
		}
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fail(err)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, History: 1, TTL: ttl,
		Storage: jetstream.FileStorage, Description: "ecardgw campus-code replay record"})
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = js.KeyValue(ctx, bucket)
	}
	if err != nil {
		return fail(err)
	}
	return &SharedReplay{nc: nc, own: own, kv: kv}, nil
}

// ReplayKey is a code's key in the bucket.
func ReplayKey(account uint64, genAt uint32, counter uint16) string {
	return fmt.Sprintf("%d.%d.%d", account, genAt, counter)
}

// Claim records the code as used here. It reports true if this gateway
// is the first to claim it, false if it was already used (here or at
// another campus). An error means the shared record could not be asked:
// the caller decides (refuse, or fall back to the local record).
func (s *SharedReplay) Claim(ctx context.Context, account uint64, genAt uint32, counter uint16) (bool, error) {
	stamp := []byte(time.Now().UTC().Format(time.RFC3339))
	_, err := s.kv.Create(ctx, ReplayKey(account, genAt, counter), stamp)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyExists):
		return false, nil
	default:
		return false, err
	}
}

// Close closes the connection if it was dialled here.
func (s *SharedReplay) Close() {
	if s.own {
		s.nc.Close()
	}
}
