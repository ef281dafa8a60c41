package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Third-party payments in progress and the channel calls still owed.
//
//	payintents: IdemKey -> PayIntent (JSON)
//	payjobs:    job id  -> PayJob (JSON)
//
// A payment-code purchase or top-up, and a third-party refund, is written
// as an intent (and fsynced) before the channel is asked, and removed in
// the transaction that journals its answer; what is left at a start was
// interrupted and is driven to an end by the engine's recovery. A cancel
// or refund the channel did not confirm is a job, retried until it is.
// Both buckets are created on first use, so a store written before they
// existed opens unchanged; they hold no secrets (never a payment code).
var (
	bktPayIntents = []byte("payintents")
	bktPayJobs    = []byte("payjobs")
)

// PayIntent is a third-party payment or refund started at a channel and
// not yet answered to its terminal.
type PayIntent struct {
	Key      IdemKey   `json:"key"`
	Kind     Kind      `json:"kind"`      // purchase, top-up or refund
	Trade    string    `json:"trade"`     // the channel trade number (a refund's: its purchase's)
	RefundNo string    `json:"refund_no"` // a refund's own number at the channel
	Channel  Channel   `json:"channel"`
	Amount   int64     `json:"amount"`
	Account  uint64    `json:"account,omitempty"` // a top-up's account
	Orig     *IdemKey  `json:"orig,omitempty"`    // a refund's purchase, whose refundable amount it reserved
	Created  time.Time `json:"created"`
	// Closed: recovery ended the trade at the channel; the request, if it
	// comes again, is answered 98 and the intent removed.
	Closed bool `json:"closed,omitempty"`
}

// Pay job operations.
const (
	PayJobCancel = "cancel" // end a trade: one being paid stops, one paid is given back
	PayJobRefund = "refund" // give back Amount of a paid trade, idempotent by RefundNo
)

// PayJob is a channel call the gateway owes: retried with backoff until
// the channel confirms it.
type PayJob struct {
	Op        string    `json:"op"`
	Trade     string    `json:"trade"`
	RefundNo  string    `json:"refund_no,omitempty"`
	Amount    int64     `json:"amount,omitempty"`
	Channel   Channel   `json:"channel,omitempty"`
	Orig      *IdemKey  `json:"orig,omitempty"` // a refund's purchase, whose reservation a final refusal releases
	Reason    string    `json:"reason"`         // why it is owed
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at"`
	LastError string    `json:"last_error,omitempty"`
	Created   time.Time `json:"created"`
}

// ID names the job: one job per operation, trade and refund number.
func (j *PayJob) ID() string { return j.Op + ":" + j.Trade + ":" + j.RefundNo }

// PutPayIntent writes (or replaces) an intent.
func (tx *Tx) PutPayIntent(p *PayIntent) error {
	var kb [IdemKeySize]byte
	k, err := p.Key.appendKey(kb[:0])
	if err != nil {
		return err
	}
	b, err := tx.btx.CreateBucketIfNotExists(bktPayIntents)
	if err != nil {
		return err
	}
	v, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return b.Put(append([]byte(nil), k...), v)
}

// PayIntent returns the intent of request k.
func (tx *Tx) PayIntent(k IdemKey) (PayIntent, bool, error) {
	b := tx.btx.Bucket(bktPayIntents)
	if b == nil {
		return PayIntent{}, false, nil
	}
	var kb [IdemKeySize]byte
	key, err := k.appendKey(kb[:0])
	if err != nil {
		return PayIntent{}, false, err
	}
	v := b.Get(key)
	if v == nil {
		return PayIntent{}, false, nil
	}
	var p PayIntent
	if err := json.Unmarshal(v, &p); err != nil {
		return p, false, fmt.Errorf("%w: pay intent: %v", ErrCorruptValue, err)
	}
	return p, true, nil
}

// DeletePayIntent removes request k's intent (absent: nothing to do).
func (tx *Tx) DeletePayIntent(k IdemKey) error {
	b := tx.btx.Bucket(bktPayIntents)
	if b == nil {
		return nil
	}
	var kb [IdemKeySize]byte
	key, err := k.appendKey(kb[:0])
	if err != nil {
		return err
	}
	return b.Delete(key)
}

// PayIntents calls fn for every intent, in key order.
func (tx *Tx) PayIntents(fn func(PayIntent) error) error {
	b := tx.btx.Bucket(bktPayIntents)
	if b == nil {
		return nil
	}
	return b.ForEach(func(_, v []byte) error {
		var p PayIntent
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("%w: pay intent: %v", ErrCorruptValue, err)
		}
		return fn(p)
	})
}

// PutPayJob writes (or replaces) a job.
func (tx *Tx) PutPayJob(j *PayJob) error {
	if j.Op == "" || j.Trade == "" {
		return ErrBadKey
	}
	b, err := tx.btx.CreateBucketIfNotExists(bktPayJobs)
	if err != nil {
		return err
	}
	v, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return b.Put([]byte(j.ID()), v)
}

// DeletePayJob removes a job once the channel confirmed it.
func (tx *Tx) DeletePayJob(id string) error {
	b := tx.btx.Bucket(bktPayJobs)
	if b == nil {
		return nil
	}
	return b.Delete([]byte(id))
}

// payJobOwed reports whether a cancel or refund of trade is queued
// (a prefix of PayJob.ID).
func (tx *Tx) payJobOwed(trade string) bool {
	b := tx.btx.Bucket(bktPayJobs)
	if b == nil {
		return false
	}
	for _, op := range []string{PayJobCancel, PayJobRefund} {
		prefix := []byte(op + ":" + trade + ":")
		if k, _ := b.Cursor().Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// PayJobs calls fn for every job.
func (tx *Tx) PayJobs(fn func(PayJob) error) error {
	b := tx.btx.Bucket(bktPayJobs)
	if b == nil {
		return nil
	}
	return b.ForEach(func(_, v []byte) error {
		var j PayJob
		if err := json.Unmarshal(v, &j); err != nil {
			return fmt.Errorf("%w: pay job: %v", ErrCorruptValue, err)
		}
		return fn(j)
	})
}
