package centre

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// AccountSnapshot is one account as the centre holds it, for the
// gateway's replica. Version is the centre's account version of the last
// change to it.
type AccountSnapshot struct {
	No                                    uint64
	Name, StaffNo, CardNumber, CardSerial string
	BalanceFen                            int64
	Status                                string
	ECardActive                           bool
	Version                               uint64
}

// BlacklistEntry is one change of the centre's blacklist.
type BlacklistEntry struct {
	Version uint32
	Card    string
	Add     bool
}

// SnapshotPage is the page size Snapshot asks for.
const SnapshotPage = 500

// Snapshot calls fn for every account changed after sinceVersion (0: all),
// oldest change first, page by page, and returns the version the replica
// then holds (pass it next time). An error from fn stops it. If it fails
// midway the accounts already handed to fn are consistent on their own;
// start again from the previous version.
func (c *Client) Snapshot(ctx context.Context, sinceVersion uint64, fn func(AccountSnapshot) error) (uint64, error) {
	since := sinceVersion
	for {
		q := url.Values{"since": {strconv.FormatUint(since, 10)}, "limit": {strconv.Itoa(SnapshotPage)}}
		var page WireAccountsPage
		if err := c.call(ctx, c.callTimeout, http.MethodGet, PathAccounts+"?"+q.Encode(), nil, &page); err != nil {
			return sinceVersion, err
		}
		for _, a := range page.Accounts {
			if a.Version <= since {
				// Versions must grow, or paging would never end.
				return sinceVersion, fmt.Errorf("%w: %w: snapshot versions out of order", ErrUnreachable, ErrBadAnswer)
			}
			since = a.Version
			if err := fn(AccountSnapshot{No: a.No, Name: a.Name, StaffNo: a.StaffNo, CardNumber: a.CardNumber,
				CardSerial: a.CardSerial, BalanceFen: a.BalanceFen, Status: a.Status,
				ECardActive: a.ECardActive, Version: a.Version}); err != nil {
				return sinceVersion, err
			}
		}
		if !page.More {
			return max(since, page.Version), nil
		}
		if len(page.Accounts) == 0 {
			return sinceVersion, fmt.Errorf("%w: %w: empty page with more", ErrUnreachable, ErrBadAnswer)
		}
	}
}

// Blacklist returns up to one page of blacklist changes after
// sinceVersion, oldest first; more reports that another call is needed.
func (c *Client) Blacklist(ctx context.Context, sinceVersion uint32) ([]BlacklistEntry, bool, error) {
	q := url.Values{"since": {strconv.FormatUint(uint64(sinceVersion), 10)}, "limit": {strconv.Itoa(MaxPage)}}
	var page WireBlacklistPage
	if err := c.call(ctx, c.callTimeout, http.MethodGet, PathBlacklist+"?"+q.Encode(), nil, &page); err != nil {
		return nil, false, err
	}
	out := make([]BlacklistEntry, 0, len(page.Entries))
	last := sinceVersion
	for _, e := range page.Entries {
		if e.Version <= last {
			return nil, false, fmt.Errorf("%w: %w: blacklist versions out of order", ErrUnreachable, ErrBadAnswer)
		}
		last = e.Version
		out = append(out, BlacklistEntry(e))
	}
	if page.More && len(out) == 0 {
		return nil, false, fmt.Errorf("%w: %w: empty page with more", ErrUnreachable, ErrBadAnswer)
	}
	return out, page.More, nil
}
