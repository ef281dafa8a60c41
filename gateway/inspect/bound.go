package inspect

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"ecardgw/store"
)

// Bound is one end of an export range: a journal sequence number or a
// time, whichever was given. The zero Bound is open.
type Bound struct {
	Seq  uint64    // 0: not by sequence
	Time time.Time // zero: not by time
}

// ParseBound parses a sequence number ("1042"), an RFC 3339 time
// ("2026-11-25T16:00:00Z", any offset; kept in UTC) or a date
// ("2026-11-25", midnight UTC). "" is the open bound.
func ParseBound(s string) (Bound, error) {
	if s == "" {
		return Bound{}, nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return Bound{Seq: n}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return Bound{Time: t.UTC()}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return Bound{Time: t}, nil
	}
	return Bound{}, fmt.Errorf("%w: %q", ErrBadBound, s)
}

// IsZero reports an open bound.
func (b Bound) IsZero() bool { return b.Seq == 0 && b.Time.IsZero() }

func (b Bound) String() string {
	switch {
	case b.Seq != 0:
		return strconv.FormatUint(b.Seq, 10)
	case !b.Time.IsZero():
		return b.Time.UTC().Format(time.RFC3339Nano)
	}
	return ""
}

// Range selects journal records: Since is inclusive and Until exclusive,
// so exports chain without gaps or overlaps (--since X --until Y, then
// --since Y). Time bounds compare the record's journal time.
type Range struct {
	Since, Until Bound
	Filter       Filter // only the records it matches
}

// Contains reports whether r is inside the range.
func (g Range) Contains(r *store.Record) bool {
	if g.Since.Seq != 0 && r.Seq < g.Since.Seq {
		return false
	}
	if g.Until.Seq != 0 && r.Seq >= g.Until.Seq {
		return false
	}
	if !g.Since.Time.IsZero() && r.Time.Before(g.Since.Time) {
		return false
	}
	if !g.Until.Time.IsZero() && !r.Time.Before(g.Until.Time) {
		return false
	}
	return g.Filter.Match(r)
}

// after is the sequence number to start reading after.
func (g Range) after() uint64 {
	if g.Since.Seq > 0 {
		return g.Since.Seq - 1
	}
	return 0
}

// Query is a journal request to the admin listener: a range export, or
// the last Tail records when Tail > 0.
type Query struct {
	Range  Range
	Tail   int
	Format Format
}

// Values encodes q as URL query parameters.
func (q Query) Values() url.Values {
	v := url.Values{}
	if s := q.Range.Since.String(); s != "" {
		v.Set("since", s)
	}
	if s := q.Range.Until.String(); s != "" {
		v.Set("until", s)
	}
	if q.Tail > 0 {
		v.Set("tail", strconv.Itoa(q.Tail))
	}
	q.Range.Filter.values(v)
	v.Set("format", q.Format.String())
	return v
}

// ParseQuery decodes URL query parameters (the inverse of Values).
func ParseQuery(v url.Values) (Query, error) {
	var q Query
	var err error
	if q.Range.Since, err = ParseBound(v.Get("since")); err != nil {
		return q, fmt.Errorf("since: %w", err)
	}
	if q.Range.Until, err = ParseBound(v.Get("until")); err != nil {
		return q, fmt.Errorf("until: %w", err)
	}
	if f := v.Get("format"); f != "" {
		if q.Format, err = ParseFormat(f); err != nil {
			return q, err
		}
	}
	if q.Range.Filter, err = parseFilter(v); err != nil {
		return q, err
	}
	if t := v.Get("tail"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n <= 0 || n > store.MaxLastJournal {
			return q, fmt.Errorf("%w: tail must be 1..%d", ErrBadBound, store.MaxLastJournal)
		}
		q.Tail = n
	}
	return q, nil
}
