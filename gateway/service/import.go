package service

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

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
// with the journal record, or none.
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
	resp := importResponse{Rows: len(rows)}
	// A large file is committed in chunks and made live in one short
	// final step, so terminals are not held up (store/import.go); the
	// journal record is written in that step.
	res, err := s.db.Import(r.Context(), rows, store.ImportOptions{Now: now, Blacklist: true,
		Final: func(tx *store.Tx, res store.ImportResult) error {
			var err error
			if resp.BlacklistVersion, err = tx.BlacklistVersion(); err != nil {
				return err
			}
			resp.Seq, err = s.journal(tx, &store.Record{Kind: store.KindImport, Resp: string(txn.RCApproved),
				Note: fmt.Sprintf("rows %d created %d updated %d", len(rows), res.Created, res.Updated)}, now)
			return err
		}})
	resp.Created, resp.Updated = res.Created, res.Updated
	changed := res.BlacklistChanged
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
