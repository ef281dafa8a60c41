package iso8583_test

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/frame"
	"ecardgw/codec/hexfix"
	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
	"ecardgw/codec/tlv"
)

// TestGolden checks the codec against the recorded frames: a valid frame
// decodes to the values its comments list, re-encodes to the same bytes
// (also when built from those values by the setters), and its MAC
// verifies; a malformed frame fails with the named sentinel at the named
// field.
func TestGolden(t *testing.T) {
	var reused iso8583.Message // one Message for every frame, as a worker would use it
	for _, fx := range loadGoldenFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			if fx.ok {
				checkGoldenOK(t, fx, &reused)
			} else {
				checkGoldenError(t, fx)
			}
		})
	}
}

func checkGoldenOK(t *testing.T, fx goldenFixture, reused *iso8583.Message) {
	requireWholeFrame(t, fx.raw)

	var m iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&m, fx.raw))
	require.Equal(t, fx.mti, m.MTI.String())
	require.Equal(t, fx.raw[2:7], m.Header.TPDU[:])
	require.Equal(t, fx.raw[7:13], m.Header.Head[:])
	require.Equal(t, fx.raw[9]&0x0F, m.Header.ProcessingRequirement())

	for f := 2; f <= 64; f++ {
		want, listed := fx.fields[f]
		require.Equal(t, listed, m.Has(f), "field %d present", f)
		if !listed {
			continue
		}
		if goldenNumeric[f] {
			require.Equal(t, string(want), m.Digits(f), "field %d", f)
			if len(want) <= 19 {
				wantN, err := strconv.ParseUint(string(want), 10, 64)
				require.NoError(t, err)
				n, err := m.Uint(f)
				require.NoError(t, err, "field %d", f)
				require.Equal(t, wantN, n, "field %d", f)
			}
		} else {
			require.Equal(t, want, m.Bytes(f), "field %d", f)
		}
	}
	checkGoldenPeek(t, fx, &m)
	checkGoldenSubfields(t, fx, &m)
	checkGoldenMAC(t, fx, &m)

	out, err := iso8583.AppendFrame(nil, &m, fx.mak)
	require.NoError(t, err)
	require.Equal(t, fx.raw, out, "re-encoded frame")
	body, err := iso8583.Append(nil, &m)
	require.NoError(t, err)
	require.Equal(t, fx.body(), body, "re-encoded body (field 64 as stored)")

	built := buildFromGolden(t, fx)
	out, err = iso8583.AppendFrame(nil, built, fx.mak)
	require.NoError(t, err)
	require.Equal(t, fx.raw, out, "frame built by the setters from the listed values")

	// A reused Message must not keep fields of the previous frame.
	require.NoError(t, iso8583.DecodeFrame(reused, fx.raw))
	out, err = iso8583.AppendFrame(nil, reused, fx.mak)
	require.NoError(t, err)
	require.Equal(t, fx.raw, out, "frame re-encoded from a reused Message")
}

// requireWholeFrame checks that the splitter reports exactly the whole
// frame, and waits (n == 0, no error) on every shorter prefix, as when a
// frame arrives over several reads.
func requireWholeFrame(t *testing.T, raw []byte) {
	t.Helper()
	n, err := frame.Next(raw, frame.DefaultMax)
	require.NoError(t, err)
	require.Equal(t, len(raw), n)
	for k := range len(raw) {
		n, err := frame.Next(raw[:k], frame.DefaultMax)
		require.NoError(t, err, "prefix of %d bytes", k)
		require.Zero(t, n, "prefix of %d bytes", k)
	}
}

func checkGoldenPeek(t *testing.T, fx goldenFixture, m *iso8583.Message) {
	t.Helper()
	mti, stan, ok := iso8583.Peek(fx.body())
	require.True(t, ok)
	require.Equal(t, m.MTI, mti)
	if want, listed := fx.fields[11]; listed {
		n, err := strconv.ParseUint(string(want), 10, 32)
		require.NoError(t, err)
		require.Equal(t, uint32(n), stan)
	}
}

// checkGoldenSubfields reads 48/54/55/60/61 through the codec's helpers and
// compares with the listed values, split here by position as the spec
// lays them out.
func checkGoldenSubfields(t *testing.T, fx goldenFixture, m *iso8583.Message) {
	t.Helper()
	if d, ok := fx.fields[60]; ok {
		got, err := m.F60()
		require.NoError(t, err)
		want := iso8583.F60{MsgType: uint8(goldenAtoi(t, d[0:2])), Len: len(d)}
		if len(d) >= 8 {
			want.Batch = uint32(goldenAtoi(t, d[2:8]))
		}
		if len(d) == 11 {
			want.Network = uint16(goldenAtoi(t, d[8:11]))
		}
		require.Equal(t, want, got)
	}
	if d, ok := fx.fields[61]; ok {
		got, err := m.F61()
		require.NoError(t, err)
		require.Len(t, d, 16)
		require.Equal(t, iso8583.F61{
			Batch: uint32(goldenAtoi(t, d[0:6])), STAN: uint32(goldenAtoi(t, d[6:12])),
			Date: uint16(goldenAtoi(t, d[12:16])),
		}, got)
	}
	if v, ok := fx.fields[54]; ok {
		got, err := iso8583.ParseBalances(m.Bytes(54), nil)
		require.NoError(t, err)
		require.Len(t, got, len(v)/iso8583.BalanceSize)
		for i, b := range got {
			blk := v[i*iso8583.BalanceSize:]
			amount := goldenAtoi(t, blk[8:20])
			if blk[7] == 'D' {
				amount = -amount
			}
			require.Equal(t, string(blk[0:2]), string(b.Account[:]))
			require.Equal(t, string(blk[2:4]), string(b.Type[:]))
			require.Equal(t, string(blk[4:7]), string(b.Currency[:]))
			require.Equal(t, amount, b.Amount)
			// A block written back from its parsed form is the same text.
			require.Equal(t, blk[:iso8583.BalanceSize], iso8583.AppendBalance(nil, b))
		}
	}
	if v, ok := fx.fields[55]; ok {
		require.NoError(t, tlv.Validate(m.Bytes(55)))
		// Every item is 2-byte tag, 1-byte length, value; find each one.
		for rest := v; len(rest) > 0; {
			require.GreaterOrEqual(t, len(rest), 3)
			tag, n := uint16(rest[0])<<8|uint16(rest[1]), int(rest[2])
			got, found, err := tlv.Find(m.Bytes(55), tag)
			require.NoError(t, err)
			require.True(t, found, "tag %04X", tag)
			require.Equal(t, rest[3:3+n], got, "tag %04X", tag)
			rest = rest[3+n:]
		}
	}
	if d, ok := fx.fields[48]; ok {
		require.Len(t, d, 31, "48 = debit n12 . count n3 . credit n12 . count n3 . flag n1")
	}
}

func checkGoldenMAC(t *testing.T, fx goldenFixture, m *iso8583.Message) {
	t.Helper()
	if fx.mak == nil {
		require.False(t, m.Has(64))
		require.Nil(t, m.MAB())
		return
	}
	body := fx.body()
	require.Equal(t, body[:len(body)-8], m.MAB(), "MAB = MTI .. last field before 64")
	// The MAK's length chooses the MAC: UnionPay ECB (8), X9.19 (16).
	got, err := mac.Sum(fx.mak, m.MAB())
	require.NoError(t, err)
	require.True(t, mac.Equal(got[:], m.Bytes(64)), "MAC %X, field 64 %X", got[:], m.Bytes(64))
}

// buildFromGolden makes the message from the listed values alone.
func buildFromGolden(t *testing.T, fx goldenFixture) *iso8583.Message {
	t.Helper()
	var b iso8583.Message
	copy(b.Header.TPDU[:], fx.raw[2:7])
	copy(b.Header.Head[:], fx.raw[7:13])
	b.MTI = iso8583.MTI(goldenAtoi(t, []byte(fx.mti)))
	for f, v := range fx.fields {
		if f == 64 {
			continue // computed from the MAK
		}
		if goldenNumeric[f] {
			require.NoError(t, b.SetDigits(f, v), "field %d", f)
		} else {
			require.NoError(t, b.SetBytes(f, v), "field %d", f)
		}
	}
	return &b
}

func checkGoldenError(t *testing.T, fx goldenFixture) {
	want := goldenSentinels[fx.sentinel]
	n, err := frame.Next(fx.raw, frame.DefaultMax)
	if err != nil {
		require.ErrorIs(t, err, want)
		require.Equal(t, -1, fx.errField, "the splitter's errors name no field")
		requireNoFrameBytes(t, err.Error(), fx.raw)
		return
	}
	require.Equal(t, len(fx.raw), n, "a malformed frame is still split whole")
	// The MTI stays readable, so the gateway can still answer 30.
	_, _, ok := iso8583.Peek(fx.body())
	require.True(t, ok, "Peek")

	var m iso8583.Message
	err = iso8583.DecodeFrame(&m, fx.raw)
	require.ErrorIs(t, err, want)
	requireNoFrameBytes(t, err.Error(), fx.raw)
	if fx.errField < 0 {
		return
	}
	fe, isField := errors.AsType[*iso8583.FieldError](err)
	require.True(t, isField, "want *FieldError, got %T", err)
	require.Equal(t, fx.errField, fe.Field)

	// Decoding the body alone reports the same fault.
	err = iso8583.Decode(&m, fx.body())
	require.ErrorIs(t, err, want)
	fe, isField = errors.AsType[*iso8583.FieldError](err)
	require.True(t, isField)
	require.Equal(t, fx.errField, fe.Field)
}

// digitRun finds what would be a card number or amount in an error text.
var digitRun = regexp.MustCompile(`[0-9]{8,}`)

// requireNoFrameBytes checks that an error text carries no value: no run
// of 6 printable bytes of the frame (terminal, merchant, scanned code) and
// no long run of digits (card number, amount).
func requireNoFrameBytes(t *testing.T, msg string, raw []byte) {
	t.Helper()
	require.False(t, digitRun.MatchString(msg), "error text %q carries digits", msg)
	const w = 6
	for i := 0; i+w <= len(raw); i++ {
		win := raw[i : i+w]
		if !goldenPrintable(win) {
			continue
		}
		require.NotContains(t, msg, string(win), "error text carries frame bytes")
	}
}

func goldenPrintable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return true
}

func goldenAtoi(t *testing.T, d []byte) int64 {
	t.Helper()
	n, err := strconv.ParseInt(string(d), 10, 64)
	require.NoError(t, err)
	return n
}

// TestGoldenPairs checks each request fixture against its answer
// (same name, MTI + 10): header replied, trace and terminal echoed, MAC
// on both or neither as the message table says.
func TestGoldenPairs(t *testing.T) {
	fxs := loadGoldenFixtures(t)
	byName := map[string]goldenFixture{}
	for _, fx := range fxs {
		byName[fx.name] = fx
	}
	for _, req := range fxs {
		if !req.ok {
			continue
		}
		mti := int(goldenAtoi(t, []byte(req.mti)))
		if !req.isRequest() {
			_, found := byName[fmt.Sprintf("%04d", mti-10)+req.name[4:]]
			require.True(t, found, "answer %s has no request fixture", req.name)
			continue
		}
		respName := fmt.Sprintf("%04d", mti+10) + req.name[4:]
		resp, found := byName[respName]
		require.True(t, found, "request %s has no answer fixture %s", req.name, respName)
		t.Run(req.name, func(t *testing.T) {
			var q, a iso8583.Message
			require.NoError(t, iso8583.DecodeFrame(&q, req.raw))
			require.NoError(t, iso8583.DecodeFrame(&a, resp.raw))
			require.Equal(t, q.MTI.Response(), a.MTI)
			require.Equal(t, q.Header.Reply(a.Header.ProcessingRequirement()), a.Header)
			for _, f := range []int{11, 41, 42} {
				require.True(t, q.Has(f) && a.Has(f), "field %d on both", f)
				require.Equal(t, q.Raw(f), a.Raw(f), "field %d echoed", f)
			}
			for _, f := range []int{2, 3, 4, 49, 60} {
				if q.Has(f) && a.Has(f) {
					require.Equal(t, q.Raw(f), a.Raw(f), "field %d echoed", f)
				}
			}
			require.True(t, a.Has(39), "answer carries a response code")
			require.Equal(t, q.MTI == 400, q.Has(39), "only a reversal request carries 39")
			// Of the 08xx only the sign-out (0820, 60.3 002) carries a MAC.
			macd := q.MTI/100 != 8
			if q.MTI == 820 {
				f60, err := q.F60()
				require.NoError(t, err)
				macd = f60.Network == 2
			}
			require.Equal(t, macd, q.Has(64), "request MAC")
			require.Equal(t, macd, a.Has(64), "answer MAC")
		})
	}
}

// TestGoldenCoverage checks that the fixtures cover every row of the
// message table, every way of paying, and every rejection.
func TestGoldenCoverage(t *testing.T) {
	seen := map[string]bool{}
	for _, fx := range loadGoldenFixtures(t) {
		if !fx.ok {
			seen[fx.sentinel] = true
			continue
		}
		var m iso8583.Message
		require.NoError(t, iso8583.DecodeFrame(&m, fx.raw), fx.name)
		key := m.MTI.String()
		if m.MTI/100 == 8 {
			f60, err := m.F60()
			require.NoError(t, err)
			key += fmt.Sprintf(" net %03d", f60.Network)
		} else {
			key += " " + m.Digits(3)
		}
		seen[key] = true
		if m.Has(22) {
			seen[key+" entry "+m.Digits(22)] = true
		}
		if strings.HasPrefix(string(m.Bytes(62)), "CC1:") {
			seen[key+" campus code"] = true
		}
		if m.Has(44) {
			seen[key+" channel "+string(m.Bytes(44))] = true
		}
		if m.MTI == 510 {
			d := m.Digits(48)
			seen[key+" flag "+d[len(d)-1:]] = true
		}
	}
	want := []string{
		"0800 net 003", "0810 net 003", "0800 net 390", "0810 net 390",
		"0820 net 301", "0830 net 301", "0820 net 002", "0830 net 002",
		"0100 310000 entry 071", "0100 310000 campus code", "0110 310000",
		"0100 330000 entry 071", "0110 330000", "0100 300000", "0110 300000",
		"0200 000000 entry 071", "0200 000000 campus code",
		"0210 000000 channel CAMPUS", "0210 000000 channel ALIPAY",
		"0210 000000 channel WECHAT", "0210 000000 channel UNIONPAY",
		"0200 200000", "0210 200000", "0200 190000", "0210 190000",
		"0200 210000", "0210 210000", "0200 170000", "0210 170000",
		"0220 000000", "0230 000000", "0400 000000", "0410 000000",
		"0500 000000", "0510 000000 flag 1", "0510 000000 flag 2",
	}
	for name := range goldenSentinels {
		want = append(want, name)
	}
	for _, k := range want {
		require.True(t, seen[k], "no fixture for %q", k)
	}
}

// docExample finds the annotated frames copied into the integration guide.
var docExample = regexp.MustCompile("(?s)```text\n# testdata/frames/([a-z0-9-]+)\\.txt\n(.*?)```")

// TestGoldenDocExamples checks that every example frame in
// docs/protocol.md is byte for byte its fixture, and that every valid
// fixture is shown there, so the guide vendors build from cannot drift
// from what the codec is tested against.
func TestGoldenDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/protocol.md")
	require.NoError(t, err)
	byName := map[string]goldenFixture{}
	for _, fx := range loadGoldenFixtures(t) {
		byName[fx.name] = fx
	}
	shown := map[string]bool{}
	for _, m := range docExample.FindAllSubmatch(doc, -1) {
		name := string(m[1])
		fx, found := byName[name]
		require.True(t, found, "docs/protocol.md shows unknown fixture %s", name)
		raw, err := hexfix.Parse(m[2])
		require.NoError(t, err, name)
		require.Equal(t, fx.raw, raw, "docs/protocol.md example %s differs from its fixture", name)
		shown[name] = true
	}
	for name, fx := range byName {
		if fx.ok {
			require.True(t, shown[name], "docs/protocol.md does not show %s", name)
		}
	}
}
