package logging

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Secrets the test logs in every way a careless caller might.
const (
	pan19     = "6217000012345678901"
	pan16     = "6222021234567890"
	campusNo  = "201900012345"
	accountNo = "1000000000004242"
	makHex    = "0123456789ABCDEF"
	tmkHex    = "00112233445566778899aabbccddeeff"
)

var rawKey = []byte{0x9a, 0x3c, 0x10, 0xfe, 0x77, 0x01, 0x5d, 0xc2}

type cardStruct struct {
	PAN    string
	Amount int64
}

type namedKey []byte

type panStringer struct{}

func (panStringer) String() string { return "card " + pan16 }

func logEverything(l *slog.Logger) {
	l.Info("purchase card " + pan19 + " approved")
	l.Info("campus card", "no", campusNo)
	l.Info("declined", "pan", pan16, "amount", 1500)
	l.Info("declined", "PAN", pan19)
	l.Info("already masked", "pan", MaskPAN(pan19))
	l.Info("numeric card", "pan", uint64(6222021234567890), "card_number", int64(6217000012345678))
	l.Info("numeric in plain key", "id", uint64(6222021234567890))
	l.Warn("sign-in", "mak", makHex, "tmk", tmkHex)
	l.Warn("sign-in keys in message mak=" + makHex + " tmk=" + tmkHex)
	l.Warn("raw key", "key", rawKey, "frame", []byte("\x00\x2e"+pan19))
	l.Warn("bytes under an innocent name", "data", rawKey)
	l.Warn("named byte types", "a", namedKey(rawKey), "b", [8]byte(rawKey))
	l.Error("store failed", "err", fmt.Errorf("account %s: %w", accountNo, errors.New("boom")))
	l.Error("stringer", "card", panStringer{}, "what", panStringer{})
	l.Error("struct", "v", cardStruct{PAN: pan16, Amount: 100})
	l.Info("grouped", slog.Group("req", "pan", pan19, "text", "code "+tmkHex, slog.Group("key", "a", "x")))
	l.With("terminal", "00000001", "account", accountNo).Info("with attrs", "extra", pan16)
	l.WithGroup("session_key").Info("group by name", "value", "plain")
	l.Info("lazy", "v", slog.AnyValue(lazy{}))
}

type lazy struct{}

func (lazy) LogValue() slog.Value { return slog.StringValue("lazy " + pan19) }

func TestHandlerLeaksNothing(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := New(Config{Format: format, Level: "debug", Output: &buf})
			require.NoError(t, err)
			logEverything(l)
			out := buf.String()
			require.Equal(t, 19, strings.Count(out, "\n"), "every record written")
			for _, secret := range []string{
				pan19, pan16, campusNo, accountNo, makHex, tmkHex,
				strings.ToLower(makHex), strings.ToUpper(tmkHex),
				hex.EncodeToString(rawKey), string(rawKey), "6217000012345678",
				"154 60 16 254", // rawKey as decimal bytes, how %v prints a named byte type
			} {
				require.NotContains(t, out, secret)
			}
			require.Contains(t, out, "621700*********8901", "masked card numbers are still useful")
			require.Contains(t, out, Redacted)
			require.Contains(t, out, "[8 bytes]")
			require.Contains(t, out, "00000001", "short identifiers pass")
			if format == "json" {
				for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
					require.True(t, json.Valid([]byte(line)), line)
				}
			}
		})
	}
}

func TestNewConfig(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(Config{Level: "warn", Output: &buf})
	require.NoError(t, err)
	l.Info("hidden")
	l.Warn("shown")
	require.NotContains(t, buf.String(), "hidden")
	require.Contains(t, buf.String(), "level=WARN msg=shown")

	_, err = New(Config{Format: "xml"})
	require.ErrorIs(t, err, ErrFormat)
	_, err = New(Config{Level: "loud"})
	require.ErrorIs(t, err, ErrLevel)
}

func TestLevelVarReload(t *testing.T) {
	var buf bytes.Buffer
	lv := new(slog.LevelVar)
	l, err := New(Config{Format: "json", Level: "error", Output: &buf, LevelVar: lv})
	require.NoError(t, err)
	require.Equal(t, slog.LevelError, lv.Level())
	l.Info("before")
	lv.Set(slog.LevelDebug)
	l.Debug("after")
	require.NotContains(t, buf.String(), "before")
	require.Contains(t, buf.String(), `"msg":"after"`)
}

func TestTimesAreUTC(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(Config{Format: "json", Output: &buf})
	require.NoError(t, err)
	l.Info("x")
	var rec struct{ Time string }
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec))
	require.True(t, strings.HasSuffix(rec.Time, "Z"), rec.Time)
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "": slog.LevelInfo, "INFO": slog.LevelInfo,
		"warn": slog.LevelWarn, "warning": slog.LevelWarn, "error": slog.LevelError,
	} {
		got, err := ParseLevel(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
}

func BenchmarkHandlerCleanRecord(b *testing.B) {
	l := slog.New(NewHandler(slog.NewJSONHandler(discard{}, nil)))
	b.ReportAllocs()
	for b.Loop() {
		l.Info("request answered", "terminal", "00000001", "mti", "0200", "code", "00", "amount", 1500)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
