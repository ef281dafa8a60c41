package txn

import (
	"strconv"

	"ecardgw/store"
)

// settle: 0500 compares the terminal's totals (field 48: debit amount n12,
// debit count n3, credit amount n12, credit count n3, flag n1) with the
// journal's for this terminal and batch, answers the terminal's totals
// with the flag 1 (balanced) or 2 (not balanced), and closes the batch.
func (e *Engine) settle(c *call) error {
	req := &c.w.req
	if !req.Has(48) {
		c.decline(RCFormat)
		return nil
	}
	d := req.AppendDigits(c.w.tmp[:0], 48)
	c.w.tmp = d
	if len(d) < 30 {
		c.decline(RCFormat)
		return nil
	}
	debit, _ := strconv.ParseInt(string(d[0:12]), 10, 64)
	debitN, _ := strconv.Atoi(string(d[12:15]))
	credit, _ := strconv.ParseInt(string(d[15:27]), 10, 64)
	creditN, _ := strconv.Atoi(string(d[27:30]))

	bt, err := batchTotals(c.tx, c.term.ID, c.key.Batch)
	if err != nil {
		return err
	}
	flag := byte('1')
	if bt.DebitFen != debit || bt.DebitCount != debitN || bt.CreditFen != credit || bt.CreditCount != creditN {
		flag = '2'
		c.rec.Exception = true
		c.rec.Note = "not balanced: gateway " + string(appendTotals(nil, &bt))
	}
	// The answer repeats the terminal's totals with the flag set, as
	// UnionPay POS expect; the journal record keeps ours when they differ.
	out := make([]byte, 0, 31)
	out = append(out, d[:30]...)
	out = append(out, flag)
	c.f48 = out
	c.rc = RCApproved
	c.closeBatch = true
	c.rec.Amount = bt.DebitFen - bt.CreditFen
	return nil
}

// appendTotals formats batch totals as the first 30 digits of field 48.
func appendTotals(dst []byte, bt *store.BatchTotals) []byte {
	dst = appendPadded(dst, bt.DebitFen, 12)
	dst = appendPadded(dst, int64(bt.DebitCount), 3)
	dst = appendPadded(dst, bt.CreditFen, 12)
	return appendPadded(dst, int64(bt.CreditCount), 3)
}

// appendPadded appends v as exactly n decimal digits (negative values, which
// totals should never be, are written as zero; overflow keeps the low digits).
func appendPadded(dst []byte, v int64, n int) []byte {
	if v < 0 {
		v = 0
	}
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], v, 10)
	if len(s) > n {
		s = s[len(s)-n:]
	}
	for i := len(s); i < n; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// batchTotals adds up a terminal's batch from the transaction states kept
// with its idempotency records: approved debits (purchases, offline
// advice, small-wallet loads, fees) and credits (refunds, top-ups), less
// what was reversed. Nothing is counted per request, so an approval writes
// no batch record.
func batchTotals(tx *store.Tx, term string, batch uint32) (store.BatchTotals, error) {
	bt := store.BatchTotals{Terminal: term, Batch: batch}
	err := tx.TxnsOfBatch(term, batch, func(s *store.TxnState) error {
		if s.Reversed {
			return nil
		}
		switch s.Kind {
		case store.KindPurchase, store.KindLoad, store.KindFee:
			bt.DebitFen += s.Amount
			bt.DebitCount++
		case store.KindRefund, store.KindTopUp:
			bt.CreditFen += s.Amount
			bt.CreditCount++
		}
		return nil
	})
	return bt, err
}
