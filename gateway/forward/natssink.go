package forward

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"ecardgw/gateway/centre"
	"ecardgw/gateway/config"
	"ecardgw/metrics"
	"ecardgw/store"
)

// NATSOptions configure the JetStream sink and SharedReplay.
type NATSOptions struct {
	// URL of the NATS servers ("nats://10.0.0.5:4222,nats://10.0.0.6:4222").
	URL string
	// Conn is used instead of dialling URL when set; it is not closed.
	Conn *nats.Conn
	// Stream and Subject: the stream is created with this one subject if
	// it does not exist.
	Stream, Subject string
	// Duplicates is the stream's duplicate window for a stream created
	// here (JetStream's default, 2 min, when zero). A record sent again
	// within it is dropped by its Nats-Msg-Id.
	Duplicates time.Duration
	// ReconnectWait between reconnection attempts (default 500 ms; the
	// client reconnects forever).
	ReconnectWait time.Duration
	// Name is the connection name shown by the server (default "ecardgw").
	Name string
	// PublishTimeout bounds the wait for one record's acknowledgement
	// (default 2 s). A publish caught by a server restart may never be
	// answered; it is retried (and deduplicated) rather than waited for.
	PublishTimeout time.Duration

	// TLS, when set, is required of every server (a nats:// URL too).
	TLS *tls.Config
	// User and Password, or Token, or the nkey seed in NKeyFile
	// authenticate the connection (at most one of them).
	User, Password, Token config.Secret
	NKeyFile              string
}

// NATSOptionsFromConfig maps forward.nats and the key file's upstream
// secrets; it reads the TLS files.
func NATSOptionsFromConfig(n config.NATS, k config.UpstreamKeys) (NATSOptions, error) {
	tc, err := n.TLS.ClientConfig()
	if err != nil {
		return NATSOptions{}, fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	return NATSOptions{URL: n.URL, Stream: n.Stream, Subject: n.Subject, TLS: tc,
		User: k.NATSUser, Password: k.NATSPassword, Token: k.NATSToken, NKeyFile: n.NKeyFile}, nil
}

// connOptions are the client options of o.
func (o *NATSOptions) connOptions() ([]nats.Option, error) {
	wait := o.ReconnectWait
	if wait <= 0 {
		wait = 500 * time.Millisecond
	}
	name := o.Name
	if name == "" {
		name = "ecardgw"
	}
	opts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(wait)}
	if o.TLS != nil {
		opts = append(opts, nats.Secure(o.TLS.Clone()))
	}
	auths := 0
	if len(o.User) > 0 || len(o.Password) > 0 {
		auths++
		opts = append(opts, nats.UserInfo(string(o.User), string(o.Password)))
	}
	if len(o.Token) > 0 {
		auths++
		opts = append(opts, nats.Token(string(o.Token)))
	}
	if o.NKeyFile != "" {
		auths++
		opt, err := nats.NkeyOptionFromSeed(o.NKeyFile)
		if err != nil {
			// nats.go's error names the file's problem, never the seed.
			return nil, fmt.Errorf("%w: nkey file: %w", ErrBadOptions, err)
		}
		opts = append(opts, opt)
	}
	if auths > 1 {
		return nil, fmt.Errorf("%w: use one of user and password, token or nkey", ErrBadOptions)
	}
	return opts, nil
}

// refusedErrs are the answers of a server that is reached but will not
// take this client as configured: retrying cannot help, so they fail the
// start instead of being retried in the background.
var refusedErrs = []error{nats.ErrAuthorization, nats.ErrAuthExpired, nats.ErrAuthRevoked,
	nats.ErrAccountAuthExpired, nats.ErrSecureConnRequired, nats.ErrSecureConnWanted,
	nats.ErrTLS, nats.ErrNkeysNotSupported}

func refused(err error) bool {
	for _, r := range refusedErrs {
		if errors.Is(err, r) {
			return true
		}
	}
	// A TLS alert from the server (crypto/tls reports one as a "remote
	// error"), or its certificate failing verification here.
	var op *net.OpError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &op) && op.Op == "remote error" || errors.As(err, &verify)
}

func (o *NATSOptions) connect() (*nats.Conn, bool, error) {
	if o.Conn != nil {
		return o.Conn, false, nil
	}
	if o.URL == "" {
		return nil, false, fmt.Errorf("%w: a NATS URL or connection is required", ErrBadOptions)
	}
	opts, err := o.connOptions()
	if err != nil {
		return nil, false, err
	}
	nc, err := nats.Connect(o.URL, opts...)
	if err == nil {
		return nc, true, nil
	}
	if refused(err) {
		return nil, false, fmt.Errorf("nats: the server refused the connection (check forward.nats.tls and the key file's upstream.nats_*): %w", err)
	}
	// Not reached (down, not yet up): keep trying in the background.
	nc, err = nats.Connect(o.URL, append(opts, nats.RetryOnFailedConnect(true))...)
	return nc, true, err
}

// NATSSink publishes each record to a JetStream stream, its idempotency
// key ("TERMINAL:BATCH:STAN:MTI") as Nats-Msg-Id and the record as JSON
// (the centre interface's record form). Records are published one after
// another, each waiting for the stream's acknowledgement, so the stream
// holds them in journal order.
type NATSSink struct {
	nc      *nats.Conn
	own     bool
	js      jetstream.JetStream
	o       NATSOptions
	mu      sync.Mutex
	ensured bool
}

var _ Sink = (*NATSSink)(nil)

// NewNATSSink connects and makes sure the stream exists. With the server
// down it still returns a sink (the connection keeps trying), and the
// stream is made on the first delivery.
func NewNATSSink(ctx context.Context, o NATSOptions) (*NATSSink, error) {
	if o.Stream == "" || o.Subject == "" {
		return nil, fmt.Errorf("%w: stream and subject are required", ErrBadOptions)
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = 2 * time.Second
	}
	nc, own, err := o.connect()
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		if own {
			nc.Close()
		}
		return nil, err
	}
	s := &NATSSink{nc: nc, own: own, js: js, o: o}
	_ = s.ensure(ctx) // retried on delivery when the server is not up yet
	return s, nil
}

// ensure creates the stream if it is absent; an existing stream is used
// as it is configured (the operator may have replicated it).
func (s *NATSSink) ensure(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ensured {
		return nil
	}
	_, err := s.js.Stream(ctx, s.o.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = s.js.CreateStream(ctx, jetstream.StreamConfig{
			Name: s.o.Stream, Subjects: []string{s.o.Subject}, Storage: jetstream.FileStorage,
			Duplicates: s.o.Duplicates,
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			err = nil // another gateway made it meanwhile
		}
	}
	if err != nil {
		return err
	}
	s.ensured = true
	return nil
}

// Name implements Sink.
func (*NATSSink) Name() string { return "jetstream" }

// Metric implements Sink.
func (*NATSSink) Metric() metrics.Sink { return metrics.SinkJetStream }

// Deliver implements Sink. A failed publish stops the batch there: the
// records before it are OK, it and the rest are to be retried (a record
// too large for the server is refused for good).
func (s *NATSSink) Deliver(ctx context.Context, recs []store.Record) ([]Result, error) {
	if err := s.ensure(ctx); err != nil {
		return nil, err
	}
	res := make([]Result, len(recs))
	for i := range recs {
		res[i].Seq = recs[i].Seq
	}
	for i := range recs {
		w := centre.ToWireRecord(&recs[i])
		data, err := json.Marshal(&w)
		if err != nil {
			res[i].Permanent, res[i].Reason = true, "cannot encode record"
			continue
		}
		msg := nats.NewMsg(s.o.Subject)
		msg.Data = data
		pctx, cancel := context.WithTimeout(ctx, s.o.PublishTimeout)
		_, err = s.js.PublishMsg(pctx, msg, jetstream.WithMsgID(centre.KeyString(recs[i].Key)))
		cancel()
		switch {
		case err == nil:
			res[i].OK = true
		case errors.Is(err, nats.ErrMaxPayload):
			res[i].Permanent, res[i].Reason = true, "record larger than the server's max payload"
		default:
			if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) {
				// The stream may be gone (a server restarted empty):
				// look for it again next time.
				s.mu.Lock()
				s.ensured = false
				s.mu.Unlock()
			}
			res[i].Reason = err.Error()
			return res, nil
		}
	}
	return res, nil
}

// Close closes the connection if the sink dialled it.
func (s *NATSSink) Close() {
	if s.own {
		s.nc.Close()
	}
}
