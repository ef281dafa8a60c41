package service

import (
	"math"
	"net/http"

	"ecardgw/gateway/logging"
	"ecardgw/store"
)

type blacklistEntry struct {
	Version uint32 `json:"version"`
	Card    string `json:"card"` // masked
	Action  string `json:"action"`
}

type blacklistResponse struct {
	Version   uint32           `json:"version"`
	Since     uint32           `json:"since"`
	Entries   []blacklistEntry `json:"entries"`
	More      bool             `json:"more"`
	NextSince uint32           `json:"next_since"`
}

// blacklistPage bounds one answer; the caller pages with next_since.
const blacklistPage = 500

// blacklist: GET /v1/blacklist?since=. The changes after version since,
// oldest first, for the app's admin view (card numbers masked; terminals
// get the full numbers through 0800/390).
func (s *Server) blacklist(w http.ResponseWriter, r *http.Request) (*reply, error) {
	since, err := queryUint(r, "since", 0, math.MaxUint32, "a blacklist version (next_since of the previous page)")
	if err != nil {
		return nil, err
	}
	resp := blacklistResponse{Since: uint32(since), Entries: []blacklistEntry{}}
	err = s.db.View(func(tx *store.Tx) error {
		resp.Entries = resp.Entries[:0]
		var err error
		if resp.Version, err = tx.BlacklistVersion(); err != nil {
			return err
		}
		resp.NextSince = resp.Since
		resp.More, err = tx.BlacklistSince(resp.Since, blacklistPage, func(ver uint32, card string, add bool) error {
			e := blacklistEntry{Version: ver, Card: logging.MaskPAN(card), Action: "remove"}
			if add {
				e.Action = "add"
			}
			resp.Entries = append(resp.Entries, e)
			resp.NextSince = ver
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return okJSON(resp)
}
