package inspect

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

func write(t *testing.T, f Format, recs ...*store.Record) string {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, f)
	for _, r := range recs {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Flush())
	require.Equal(t, len(recs), w.Count())
	return buf.String()
}

// The header is the documented reconciliation interface.
func TestCSVHeaderIsStable(t *testing.T) {
	const header = "seq,time_utc,terminal,batch,stan,mti,kind,proc,account,card_masked,channel,amount_fen,resp,rrn,auth,balance_after_fen,orig,exception,standin,location,note\n"
	require.Equal(t, header, write(t, FormatCSV), "an empty export still has its header")
}

func TestCSVRow(t *testing.T) {
	r := record(7)
	r.Seq = 7
	r.Time = r.Time.Add(1500 * 1e6) // 1.5 s: fractions are kept
	refund := *r
	refund.Seq, refund.Kind, refund.ProcCode, refund.Amount = 8, store.KindRefund, 200000, 50
	refund.Orig = &store.IdemKey{Terminal: "T0000001", Batch: 1, STAN: 7, MTI: 200}
	refund.Exception, refund.StandIn, refund.Note = true, true, `says "hi", twice`
	refund.Account = 0
	lines := strings.Split(write(t, FormatCSV, r, &refund), "\n")
	require.Equal(t, "7,2026-11-25T08:00:07.5Z,T0000001,1,7,0200,purchase,000000,2,10******0007,card,107,00,000000000007,123456,99993,,false,false,Canteen 1,", lines[1])
	require.Equal(t, `8,2026-11-25T08:00:07.5Z,T0000001,1,7,0200,refund,200000,,10******0007,card,50,00,000000000007,123456,99993,T0000001/1/7/0200,true,true,Canteen 1,"says ""hi"", twice"`, lines[2])
}

func TestJSONLines(t *testing.T) {
	r := record(3)
	r.Seq = 3
	out := write(t, FormatJSON, r, r)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 2)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	require.ElementsMatch(t, CSVColumns, keys, "JSON keys are the CSV columns")
	require.Equal(t, float64(103), m["amount_fen"])
	require.Equal(t, "2026-11-25T08:00:02Z", m["time_utc"])
	require.Nil(t, m["orig"])
	require.Equal(t, "0200", m["mti"])
}

func TestTextLine(t *testing.T) {
	r := record(2)
	r.Seq = 2
	require.Equal(t, "       2  2026-11-25T08:00:01Z  T0000001 purchase           102  00  10******0002        \n", write(t, FormatText, r))
}

// Should a full card number ever reach a record, exports still mask it.
func TestFullCardNumberIsMasked(t *testing.T) {
	r := record(1)
	r.CardMasked = "6217001234567890123"
	r.Note = "card 100000000001 declined"
	for _, f := range []Format{FormatCSV, FormatJSON, FormatText} {
		out := write(t, f, r)
		require.NotContains(t, out, "6217001234567890123", f)
		require.NotContains(t, out, "100000000001", f)
		require.Contains(t, out, "621700*********0123", f)
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range []Format{FormatCSV, FormatJSON, FormatText} {
		got, err := ParseFormat(f.String())
		require.NoError(t, err)
		require.Equal(t, f, got)
		require.NotEmpty(t, f.ContentType())
	}
	_, err := ParseFormat("xml")
	require.ErrorIs(t, err, ErrBadFormat)
}
