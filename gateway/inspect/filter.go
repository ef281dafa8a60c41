package inspect

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"ecardgw/store"
)

// Filter selects journal records by terminal, account and response code
// (`journal tail|export --terminal --account --resp`); its zero value
// matches every record.
type Filter struct {
	Terminal string   // the terminal id; "" any
	Account  uint64   // the account number; 0 any
	Resp     []string // response codes, or RespDeclined; empty any
}

// ErrBadFilter means a --terminal, --account or --resp value is not one.
var ErrBadFilter = errors.New("inspect: bad filter")

// RespDeclined as a response code matches every record whose code is not
// 00 (and that has one).
const RespDeclined = "declined"

// IsZero reports whether f matches every record.
func (f Filter) IsZero() bool { return f.Terminal == "" && f.Account == 0 && len(f.Resp) == 0 }

// Match reports whether r passes the filter.
func (f Filter) Match(r *store.Record) bool {
	if f.Terminal != "" && r.Key.Terminal != f.Terminal {
		return false
	}
	if f.Account != 0 && r.Account != f.Account {
		return false
	}
	if len(f.Resp) == 0 {
		return true
	}
	for _, c := range f.Resp {
		if c == r.Resp || c == RespDeclined && r.Resp != "" && r.Resp != "00" {
			return true
		}
	}
	return false
}

// ParseFilter builds a filter from the command line's values: a terminal
// id, an account number ("" any) and a comma-separated list of response
// codes or "declined".
func ParseFilter(terminal, account, resp string) (Filter, error) {
	var f Filter
	if terminal != "" {
		if len(terminal) != 8 {
			return f, fmt.Errorf("%w: terminal: want an 8-character terminal id", ErrBadFilter)
		}
		f.Terminal = terminal
	}
	if account != "" {
		n, err := strconv.ParseUint(account, 10, 64)
		if err != nil || n == 0 {
			return f, fmt.Errorf("%w: account: want an account number", ErrBadFilter)
		}
		f.Account = n
	}
	if resp != "" {
		for c := range strings.SplitSeq(resp, ",") {
			c = strings.TrimSpace(c)
			if c != RespDeclined && (len(c) != 2 || strings.ToUpper(c) != c) {
				return f, fmt.Errorf("%w: resp: want two-character response codes (77, A0) or %q", ErrBadFilter, RespDeclined)
			}
			if !slices.Contains(f.Resp, c) {
				f.Resp = append(f.Resp, c)
			}
		}
	}
	return f, nil
}

func (f Filter) values(v url.Values) {
	if f.Terminal != "" {
		v.Set("terminal", f.Terminal)
	}
	if f.Account != 0 {
		v.Set("account", strconv.FormatUint(f.Account, 10))
	}
	if len(f.Resp) > 0 {
		v.Set("resp", strings.Join(f.Resp, ","))
	}
}

func parseFilter(v url.Values) (Filter, error) {
	return ParseFilter(v.Get("terminal"), v.Get("account"), v.Get("resp"))
}

// TailFiltered returns the last n journal records that f matches, oldest
// first (n is capped at store.MaxLastJournal). It reads the journal
// backwards until it has n or reaches the start.
func TailFiltered(db *store.DB, n int, f Filter) ([]store.Record, error) {
	if f.IsZero() {
		return Tail(db, n)
	}
	n = min(n, store.MaxLastJournal)
	var out []store.Record
	err := db.View(func(tx *store.Tx) error {
		out = out[:0]
		return tx.JournalBackward(0, func(r *store.Record) (bool, error) {
			if f.Match(r) {
				out = append(out, *r)
			}
			return len(out) < n, nil
		})
	})
	slices.Reverse(out)
	return out, err
}
