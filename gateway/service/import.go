package service

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"ecardgw/gateway/logging"
	"ecardgw/gateway/txn"
	"ecardgw/store"
	"ecardgw/store/accountscsv"
)

type importResponse struct {
	Rows             int    `json:"rows"`
	Created          int    `json:"created"`
	Updated          int    `json:"updated"`
	BlacklistVersion uint32 `json:"blacklist_version"`
	Seq              uint64 `json:"seq"`
}

// maxRowProblems bounds the error body; the message gives the total.
const maxRowProblems = 1000

// importAccounts: POST /v1/accounts/import, a text/csv accounts file
// (store/accountscsv). Every row is checked first and every bad one
// reported by line and column, never by value; then all rows are imported
// in one transaction with the journal record, or none.
func (s *Server) importAccounts(w http.ResponseWriter, r *http.Request) (*reply, error) {
	if err := wantMedia(r, "text/csv"); err != nil {
		return nil, err
	}
	// Read it whole first so that an oversize body is told apart from a
	// malformed one (the CSV reader would report both as syntax).
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxImportBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errTooLarge
		}
		return nil, err
	}
	rows, err := accountscsv.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, csvProblems(err)
	}
	now := s.opts.Now().UTC()
	var (
		resp    importResponse
		changed bool
	)
	err = s.db.Update(r.Context(), func(tx *store.Tx) error {
		resp, changed = importResponse{Rows: len(rows)}, false
		var err error
		if changed, err = syncBlacklist(tx, rows, now); err != nil {
			return err
		}
		if resp.Created, resp.Updated, err = tx.ImportAccounts(rows, now); err != nil {
			return err
		}
		if resp.BlacklistVersion, err = tx.BlacklistVersion(); err != nil {
			return err
		}
		resp.Seq, err = journal(tx, &store.Record{Kind: store.KindImport, Resp: string(txn.RCApproved),
			Note: fmt.Sprintf("rows %d created %d updated %d", resp.Rows, resp.Created, resp.Updated)}, now)
		return err
	})
	if errors.Is(err, store.ErrCardInUse) {
		return nil, conflict("a card number in the file belongs to an account that is not in it; nothing was imported")
	}
	if err != nil {
		return nil, err
	}
	if changed && s.opts.OnBlacklist != nil {
		s.opts.OnBlacklist(resp.BlacklistVersion)
	}
	s.log.Info("service import", "rows", resp.Rows, "created", resp.Created, "updated", resp.Updated)
	return okJSON(resp)
}

// csvProblems turns the parser's report into a 400 listing the bad rows.
func csvProblems(err error) error {
	var ce *accountscsv.CSVError
	if !errors.As(err, &ce) {
		return badRequest("the accounts file cannot be read")
	}
	ae := badRequest(fmt.Sprintf("the accounts file has %d error(s); nothing was imported", len(ce.Rows)))
	for i, row := range ce.Rows {
		if i == maxRowProblems {
			break
		}
		// The reasons are the parser's fixed texts; Sanitize is the safety
		// net in case one ever quoted a value.
		ae.Rows = append(ae.Rows, rowProblem{Line: row.Line, Column: row.Column, Reason: logging.Sanitize(row.Err.Error())})
	}
	return ae
}

// syncBlacklist keeps the blacklist in step with what the import does to
// the lost status: a card the file makes lost goes on the list, and a
// listed card whose account the file makes active again with the same card
// (found after all) comes off. A listed card the file replaces by another
// stays listed: it is still the lost piece of plastic. Removals go first,
// so a card that is both taken off one row and put on another ends listed.
// It reports whether the list changed.
func syncBlacklist(tx *store.Tx, rows []store.Account, now time.Time) (bool, error) {
	type change struct {
		card string
		add  bool
	}
	var dels, adds []change
	for i := range rows {
		r := &rows[i]
		old, ok, err := tx.Account(r.No)
		if err != nil {
			return false, err
		}
		wasListed := ok && old.Status == store.StatusLost && old.CardNumber != ""
		isListed := r.Status == store.StatusLost && r.CardNumber != ""
		sameCard := ok && old.CardNumber == r.CardNumber
		if wasListed && sameCard && !isListed {
			dels = append(dels, change{old.CardNumber, false})
		}
		if isListed && !(wasListed && sameCard) {
			adds = append(adds, change{r.CardNumber, true})
		}
	}
	for _, c := range append(dels, adds...) {
		if _, err := tx.BlacklistAdd(c.card, c.add, now); err != nil {
			return false, err
		}
	}
	return len(dels)+len(adds) > 0, nil
}
