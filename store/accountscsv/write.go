package accountscsv

import (
	"encoding/csv"
	"io"
	"strconv"

	"ecardgw/store"
)

// Write writes accounts in the import format (header first), for export
// and for round trips: Parse(Write(rows)) gives rows back.
func Write(w io.Writer, rows []store.Account) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(columns[:]); err != nil {
		return err
	}
	rec := make([]string, len(columns))
	for i := range rows {
		a := &rows[i]
		rec[0] = strconv.FormatUint(a.No, 10)
		rec[1] = a.Name
		rec[2] = a.CardNumber
		rec[3] = a.CardSerial
		rec[4] = strconv.FormatInt(a.BalanceFen, 10)
		rec[5] = a.Status.String()
		rec[6] = a.StaffNo
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
