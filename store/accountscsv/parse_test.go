package accountscsv

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

const testdata = "../../testdata/accounts"

func TestParseDemo(t *testing.T) {
	f, err := os.Open(filepath.Join(testdata, "demo.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := Parse(f)
	require.NoError(t, err)
	require.Len(t, rows, 6)
	require.Equal(t, store.Account{
		No: 20230001, Name: "张三", StaffNo: "S2023001",
		CardNumber: "100000012345", CardSerial: "31040000100000012345",
		BalanceFen: 15000, Status: store.StatusActive,
	}, rows[0])
	require.Equal(t, store.StatusLost, rows[4].Status)
	require.Equal(t, "Li, Wei", rows[5].Name)
	require.Empty(t, rows[5].StaffNo)
}

func TestParseBadListsEveryRow(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testdata, "bad.csv"))
	require.NoError(t, err)
	_, err = Parse(bytes.NewReader(raw))
	var ce *CSVError
	require.ErrorAs(t, err, &ce)
	type want struct {
		line int
		col  string
		err  error
	}
	wants := []want{
		{3, "account", ErrAccount},
		{4, "account", ErrDuplicate},
		{5, "name", ErrName},
		{6, "card_number", ErrCardMismatch},
		{7, "card_number", ErrCardNumber},
		{8, "balance_fen", ErrBalance},
		{9, "status", ErrStatus},
		{10, "card_number", ErrDuplicate},
		{11, "staff_no", ErrStaffNo},
		{12, "", ErrFieldCount},
		{13, "account", ErrAccount},
		{14, "balance_fen", ErrBalance},
	}
	require.Len(t, ce.Rows, len(wants), "%v", err)
	for i, w := range wants {
		require.Equal(t, w.line, ce.Rows[i].Line, "row error %d", i)
		require.Equal(t, w.col, ce.Rows[i].Column, "row error %d", i)
		require.ErrorIs(t, ce.Rows[i].Err, w.err, "row error %d", i)
	}
	require.ErrorIs(t, err, ErrDuplicate)
	require.Contains(t, err.Error(), "line 4: account duplicates line 2")
	// No card number (nor serial) from the file appears in the message.
	for _, card := range []string{"100000012345", "100000012353", "12345,", "31040000199999999999"} {
		require.NotContains(t, err.Error(), card)
	}
}

func TestParseHeader(t *testing.T) {
	for name, in := range map[string]string{
		"empty":       "",
		"reordered":   "name,account,card_number,card_serial,balance_fen,status,staff_no\n",
		"extra":       Header + ",x\n",
		"upper":       strings.ToUpper(Header) + "\n",
		"spaces":      strings.ReplaceAll(Header, ",", ", ") + "\n",
		"data first":  "1,a,100000000001,12345678100000000001,0,active,\n",
		"bad quoting": "\"account,name\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(in))
			require.ErrorIs(t, err, ErrHeader)
		})
	}
}

func TestParseHeaderOnlyAndBOM(t *testing.T) {
	rows, err := Parse(strings.NewReader(Header + "\n"))
	require.NoError(t, err)
	require.Empty(t, rows)
	rows, err = Parse(strings.NewReader("\xEF\xBB\xBF" + Header + "\r\n1,a,100000000001,12345678100000000001,0,active,\r\n"))
	require.NoError(t, err)
	require.Len(t, rows, 1)
}

func TestParseSyntaxErrorStops(t *testing.T) {
	in := Header + "\n1,\"a\"b,100000000001,12345678100000000001,0,active,\n"
	_, err := Parse(strings.NewReader(in))
	require.ErrorIs(t, err, ErrSyntax)
	var ce *CSVError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, 2, ce.Rows[0].Line)
}

func TestParseCellRules(t *testing.T) {
	ok := []string{"1", "张三", "100000000001", "12345678100000000001", "0", "active", "S1"}
	cases := []struct {
		col   int
		value string
		err   error
	}{
		{0, "-1", ErrAccount},
		{0, "+1", ErrAccount},
		{0, "1234567890123456", nil},
		{0, "12345678901234567", ErrAccount},
		{1, strings.Repeat("a", 30), nil},
		{1, strings.Repeat("a", 31), ErrName},
		{1, "张三张三张三张三张三", nil}, // 30 bytes
		{1, "张三张三张三张三张三x", ErrName},
		{1, "\xff", ErrName},
		{1, "a\tb", ErrName},
		{4, "00", nil},
		{4, "999999999999", nil},
		{4, "1000000000000", ErrBalance}, // beyond field 54: a top-up could wrap it
		{4, "9223372036854775807", ErrBalance},
		{4, "9223372036854775808", ErrBalance},
		{4, " 1", ErrBalance},
		{4, "", ErrBalance},
		{5, "cancelled", nil},
		{5, "closed", ErrStatus},
		{6, "", nil},
		{6, strings.Repeat("9", 16), nil},
		{6, "工号", ErrStaffNo},
	}
	for _, c := range cases {
		t.Run(columns[c.col]+"="+c.value, func(t *testing.T) {
			rec := append([]string(nil), ok...)
			rec[c.col] = c.value
			var b bytes.Buffer
			b.WriteString(Header + "\n")
			for i, v := range rec {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(v)
			}
			b.WriteByte('\n')
			_, err := Parse(&b)
			if c.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, c.err)
		})
	}
}

func TestWriteRoundTrip(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testdata, "demo.csv"))
	require.NoError(t, err)
	rows, err := Parse(bytes.NewReader(raw))
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, rows))
	require.Equal(t, string(raw), buf.String())
}

func TestImportDemoIntoStore(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testdata, "demo.csv"))
	require.NoError(t, err)
	rows, err := Parse(bytes.NewReader(raw))
	require.NoError(t, err)
	db, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
	require.NoError(t, err)
	defer db.Close()
	c, u, err := db.ImportAccounts(t.Context(), rows)
	require.NoError(t, err)
	require.Equal(t, [2]int{6, 0}, [2]int{c, u})
	c, u, err = db.ImportAccounts(t.Context(), rows)
	require.NoError(t, err)
	require.Equal(t, [2]int{0, 0}, [2]int{c, u})
	require.NoError(t, db.View(func(tx *store.Tx) error {
		a, ok, err := tx.AccountByCard("100000012347")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, uint64(20230003), a.No)
		require.Equal(t, store.StatusFrozen, a.Status)
		return nil
	}))
}
