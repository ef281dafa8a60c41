package accountscsv

import (
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"

	"ecardgw/store"
)

// Header is the required first line.
const Header = "account,name,card_number,card_serial,balance_fen,status,staff_no"

var columns = [...]string{"account", "name", "card_number", "card_serial", "balance_fen", "status", "staff_no"}

// MaxRows bounds one file (a campus has tens of thousands of accounts).
const MaxRows = 1_000_000

const (
	maxName    = 30
	maxStaffNo = 16
	maxAccount = 16
)

// Parse reads and validates an accounts file. On any bad row it returns a
// *CSVError listing all of them and no accounts. A UTF-8 byte order mark
// before the header (spreadsheet exports) is ignored. A file with only the
// header gives no accounts and no error.
func Parse(r io.Reader) ([]store.Account, error) {
	cr := csv.NewReader(skipBOM(r))
	cr.FieldsPerRecord = -1 // counted here, so that every row is reported
	cr.ReuseRecord = true
	var bad []RowError
	rec, err := cr.Read()
	if err != nil || !isHeader(rec) {
		return nil, &CSVError{Rows: []RowError{{Line: 1, Err: ErrHeader}}}
	}
	var (
		out      []store.Account
		n        int
		accounts = map[uint64]int{}
		cards    = map[string]int{}
	)
	for {
		rec, err = cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// The csv reader cannot resynchronise reliably after a quoting
			// error: report it and stop.
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			bad = append(bad, RowError{Line: line, Err: ErrSyntax})
			break
		}
		line, _ := cr.FieldPos(0)
		if n++; n > MaxRows {
			bad = append(bad, RowError{Line: line, Err: ErrTooManyRows})
			break
		}
		a, errs := parseRow(rec, line)
		if len(errs) == 0 {
			if prev, dup := accounts[a.No]; dup {
				errs = append(errs, RowError{Line: line, Column: "account", Err: dupErr(prev)})
			} else {
				accounts[a.No] = line
			}
			if prev, dup := cards[a.CardNumber]; dup {
				errs = append(errs, RowError{Line: line, Column: "card_number", Err: dupErr(prev)})
			} else {
				cards[a.CardNumber] = line
			}
		}
		if len(errs) > 0 {
			bad = append(bad, errs...)
			continue
		}
		out = append(out, a)
	}
	if len(bad) > 0 {
		return nil, &CSVError{Rows: bad}
	}
	return out, nil
}

type dupError struct{ first int }

func (e dupError) Error() string { return "duplicates line " + strconv.Itoa(e.first) }
func (e dupError) Unwrap() error { return ErrDuplicate }

func dupErr(first int) error { return dupError{first: first} }

func isHeader(rec []string) bool {
	if len(rec) != len(columns) {
		return false
	}
	for i, c := range columns {
		if rec[i] != c {
			return false
		}
	}
	return true
}

// parseRow validates one record; every bad cell is reported.
func parseRow(rec []string, line int) (store.Account, []RowError) {
	if len(rec) != len(columns) {
		return store.Account{}, []RowError{{Line: line, Err: ErrFieldCount}}
	}
	var (
		a    store.Account
		errs []RowError
	)
	fail := func(col int, err error) {
		errs = append(errs, RowError{Line: line, Column: columns[col], Err: err})
	}
	if no, ok := parseAccount(rec[0]); ok {
		a.No = no
	} else {
		fail(0, ErrAccount)
	}
	if validName(rec[1]) {
		a.Name = rec[1]
	} else {
		fail(1, ErrName)
	}
	cardOK := allDigits(rec[2], 12)
	if !cardOK {
		fail(2, ErrCardNumber)
	}
	serialOK := allDigits(rec[3], 20)
	if !serialOK {
		fail(3, ErrCardSerial)
	}
	if cardOK && serialOK && rec[3][8:] != rec[2] {
		fail(2, ErrCardMismatch)
	}
	a.CardNumber, a.CardSerial = rec[2], rec[3]
	if v, err := strconv.ParseInt(rec[4], 10, 64); err == nil && v >= 0 && v <= store.MaxBalanceFen && onlyDigits(rec[4]) {
		a.BalanceFen = v
	} else {
		fail(4, ErrBalance)
	}
	if s, err := store.ParseStatus(rec[5]); err == nil {
		a.Status = s
	} else {
		fail(5, ErrStatus)
	}
	if validStaffNo(rec[6]) {
		a.StaffNo = rec[6]
	} else {
		fail(6, ErrStaffNo)
	}
	return a, errs
}

func parseAccount(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > maxAccount || !onlyDigits(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n > 0
}

func validName(s string) bool {
	if s == "" || len(s) > maxName || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func validStaffNo(s string) bool {
	if len(s) > maxStaffNo {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func allDigits(s string, n int) bool { return len(s) == n && onlyDigits(s) }

// onlyDigits refuses signs and spaces that strconv would accept or that a
// spreadsheet might add.
func onlyDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
