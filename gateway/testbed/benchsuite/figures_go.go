package benchsuite

import (
	"context"
	"fmt"
)

// medians reads the medians a figure is made of. A benchmark or unit that
// is not in the output (a renamed benchmark, a metric no longer reported)
// is the figure's error, naming it: a figure must not quietly show a
// dash or a zero instead.
type medians struct {
	benches []Bench
	err     error
}

func (m *medians) get(name, unit string) float64 {
	v, _, err := Median(m.benches, name, unit)
	if err != nil && m.err == nil {
		m.err = err
	}
	return v
}

func benchTable(m *medians, names []string, units []string) Table {
	t := Table{Header: append([]string{"benchmark"}, units...), Right: []bool{false}}
	for range units {
		t.Right = append(t.Right, true)
	}
	for _, n := range names {
		row := []string{n}
		for _, u := range units {
			row = append(row, num(m.get(n, u)))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// codecFigure: our codec against moov-io/iso8583 on the same purchase.
func (s *Suite) codecFigure(ctx context.Context) (Figure, error) {
	g := GoBench{Pkg: "./codec/iso8583/", Pattern: "Purchase", Benchtime: s.Benchtime, Count: s.Count}
	f := Figure{Title: "Codec vs moov-io/iso8583", Goal: "≥ 50× both ways, 0 allocs/op",
		What: "One 0200 card purchase (fields 2, 3, 4, 11, 12, 13, 22, 25, 41, 42, 49, 55, 60, 64; 125-byte " +
			"frame) decoded from a whole frame and encoded to a whole frame with its MAC (UnionPay ECB, " +
			"single-DES MAK), by `codec/iso8583` and by github.com/moov-io/iso8583 v0.23.0 with the same " +
			"profile as a moov `MessageSpec` (`codec/iso8583/moov_test.go`). Both reuse their message across " +
			"iterations; the moov pack side also MACs the packed MAB, patches field 64 and adds LEN and header, " +
			"so both produce the same bytes. Medians of the runs.",
		Commands: []string{g.Command()}}
	benches, err := g.Run(ctx, s.GoBin, s.Root)
	if err != nil {
		return f, err
	}
	names := []string{"BenchmarkDecodePurchase", "BenchmarkMoovUnpackPurchase", "BenchmarkEncodePurchase", "BenchmarkMoovPackPurchase"}
	m := &medians{benches: benches}
	f.Tables = []Table{benchTable(m, names, []string{"ns/op", "B/op", "allocs/op"})}
	dec := m.get(names[1], "ns/op") / m.get(names[0], "ns/op")
	enc := m.get(names[3], "ns/op") / m.get(names[2], "ns/op")
	allocs := m.get(names[0], "allocs/op") + m.get(names[2], "allocs/op")
	if m.err != nil {
		return f, m.err
	}
	f.Result = fmt.Sprintf("decode **%s**, encode **%s** faster than moov; %.0f allocs/op", ratio(dec, 1), ratio(enc, 1), allocs)
	f.Status, f.Margin = margin(min(dec, enc), 50, true)
	if allocs > 0 {
		f.Status, f.Margin = Missed, fmt.Sprintf("missed: %.0f allocs/op where 0 is the goal", allocs)
	}
	f.Notes = []string{"Our encode time is mostly the two DES block encryptions of the MAC; the MAK's key " +
		"schedule is cached in the reused `Message`, which keeps the encode at 0 allocs/op. " +
		"`TestDecodeAllocatesNothing` and `TestEncodeAllocatesNothing` lock both zero-allocation paths."}
	if f.Status == Missed {
		f.Profile, _ = g.Profile(ctx, s.GoBin, s.Root, s.Tmp)
	}
	return f, nil
}

// campusFigure: a cached campus-code verification against the raw
// signature verification alone, paired in every iteration.
func (s *Suite) campusFigure(ctx context.Context) (Figure, error) {
	g := GoBench{Pkg: "./gateway/campuscode/", Pattern: "Cached|Raw|Paired", Benchtime: s.Benchtime, Count: s.Count}
	f := Figure{Title: "Campus-code verify vs raw signature verify", Goal: "≤ 1.25×",
		What: "`gateway/campuscode` verifying one campus code whose certificate is already cached (Base45 " +
			"decode, parse, key ring and validity checks, SHA-256 of the certificate, cache hit, user signature, " +
			"freshness), against one raw verification of the same signature and nothing else: `ed25519.Verify`, " +
			"and for SM2 gmsm's `sm2.VerifyASN1` over SM3(Z_A ‖ message) with Z_A precomputed. Separate " +
			"benchmarks drift with the machine's load between them, so `BenchmarkPairedEd25519` and " +
			"`BenchmarkPairedSM2` time one cached verify and one raw verification back to back in every " +
			"iteration and report the median per-pair ratio as `cached/raw`; the goal is judged on those.",
		Commands: []string{g.Command()}}
	benches, err := g.Run(ctx, s.GoBin, s.Root)
	if err != nil {
		return f, err
	}
	m := &medians{benches: benches}
	f.Tables = []Table{benchTable(m, []string{"BenchmarkVerifyEd25519Cached", "BenchmarkRawEd25519Verify",
		"BenchmarkVerifySM2Cached", "BenchmarkRawSM2Verify"}, []string{"ns/op", "B/op", "allocs/op"})}
	if m.err != nil {
		return f, m.err
	}
	pairs := Table{Header: []string{"paired ratio", "runs", "median"}, Right: []bool{false, false, true}}
	var worst float64
	for _, p := range []struct{ name, label string }{{"BenchmarkPairedEd25519", "Ed25519 cached ÷ raw"}, {"BenchmarkPairedSM2", "SM2 cached ÷ raw"}} {
		m, _, err := Median(benches, p.name, "cached/raw")
		if err != nil {
			return f, err
		}
		worst = max(worst, m)
		runs := ""
		for i, v := range Values(benches, p.name, "cached/raw") {
			if i > 0 {
				runs += ", "
			}
			runs += fmt.Sprintf("%.3f", v)
		}
		pairs.Rows = append(pairs.Rows, []string{p.label, runs, fmt.Sprintf("**%.3f×**", m)})
	}
	f.Tables = append(f.Tables, pairs)
	f.Result = fmt.Sprintf("worst of Ed25519 and SM2: **%.3f×** the raw signature verification", worst)
	f.Status, f.Margin = margin(worst, 1.25, false)
	f.Notes = []string{"The Ed25519 cached path allocates nothing (`TestVerifyEd25519CachedDoesNotAllocate`); the " +
		"SM2 path's allocations are inside gmsm's `VerifyASN1` (`TestVerifySM2CachedAllocatesOnlyInsideGmsm`)."}
	if f.Status == Missed {
		f.Profile, _ = g.Profile(ctx, s.GoBin, s.Root, s.Tmp)
	}
	return f, nil
}

// journalFigure: the store's approval write path, grouped and serial.
func (s *Suite) journalFigure(ctx context.Context) (Figure, error) {
	bt := s.Benchtime
	if !s.Quick {
		bt = "2s"
	}
	g := GoBench{Pkg: "./store/", Pattern: "JournalAppend", Benchtime: bt, Count: s.Count}
	f := Figure{Title: "Journal append: group commit vs one fsync per approval",
		What: "One approval's writes through `store.DB.Update` — read the account, debit it, `PutAccount`, " +
			"`AppendJournal` (record, outbox, per-account index) and `PutIdem` with a 120-byte answer — in a " +
			"bbolt file fsynced by every commit (never NoSync). `BenchmarkJournalAppend` runs ~256 callers at " +
			"once so the group commit shares each fsync (`fns/commit` is the average group), all from one " +
			"terminal; `BenchmarkJournalAppendTerminals` is the same with each approval from one of 1,000 " +
			"terminals, as at a canteen's peak (idempotency keys are terminal first: what the store's " +
			"idempotency logs are for; `pages/op` is bbolt pages written per approval); " +
			"`BenchmarkJournalAppendSerial` has one caller, so every approval pays a whole fsync. No goal of " +
			"its own: it is what the durable purchase figure stands on.",
		Commands: []string{g.Command()}}
	benches, err := g.Run(ctx, s.GoBin, s.Root)
	if err != nil {
		return f, err
	}
	t := Table{Header: []string{"benchmark", "ns/op", "approvals/s", "fns/commit", "pages/op", "B/op", "allocs/op"},
		Right: []bool{false, true, true, true, true, true, true}}
	rate := map[string]float64{}
	m := &medians{benches: benches}
	for _, n := range []string{"BenchmarkJournalAppend", "BenchmarkJournalAppendTerminals", "BenchmarkJournalAppendSerial"} {
		ns := m.get(n, "ns/op")
		rate[n] = 1e9 / ns
		// The serial benchmark has one function per commit and reports
		// neither metric; the grouped ones must report both.
		fnsText, pagesText := "1", ""
		if n != "BenchmarkJournalAppendSerial" {
			fnsText = num(m.get(n, "fns/commit"))
			pagesText = fmt.Sprintf("%.2f", m.get(n, "pages/op"))
		}
		t.Rows = append(t.Rows, []string{n, num(ns), num(rate[n]), fnsText, pagesText, num(m.get(n, "B/op")), num(m.get(n, "allocs/op"))})
	}
	if m.err != nil {
		return f, m.err
	}
	f.Tables = []Table{t}
	f.Result = fmt.Sprintf("%s approvals/s grouped (%s from 1,000 terminals) vs %s serial: **%s**", num(rate["BenchmarkJournalAppend"]),
		num(rate["BenchmarkJournalAppendTerminals"]), num(rate["BenchmarkJournalAppendSerial"]), ratio(rate["BenchmarkJournalAppend"], rate["BenchmarkJournalAppendSerial"]))
	f.Notes = []string{"fsync latency on a virtual disk varies a lot between runs; the serial side follows the disk, the grouped side shares each fsync among the group."}
	return f, nil
}

const fingerprintTitle = "Retransmission fingerprint: its share of a durable purchase"

// fingerprintFigure: the digest every financial request gets (same key,
// other content is 94), against decoding the same request, and as a
// share of one durable purchase at the in-process rate of this run.
func (s *Suite) fingerprintFigure(ctx context.Context) (Figure, error) {
	g := GoBench{Pkg: "./gateway/txn/", Pattern: "Request(Fingerprint|Decode)$", Benchtime: s.Benchtime, Count: s.Count}
	f := Figure{Title: fingerprintTitle, Goal: "0 allocs/op, ≤ 2 % of a durable purchase",
		What: "The SHA-256 digest of a 0200 card purchase's fields but the MAC, the clock (7, 12, 13) and a reversal's reason (39), computed " +
			"for every financial request so that a request reusing an answered key with other content is answered " +
			"94 (`gateway/txn/retransmit.go`), against decoding the same frame; and its time as a share of one " +
			"durable purchase at the rate of the in-process figure above (1 s / purchases per second).",
		Commands: []string{g.Command()}}
	benches, err := g.Run(ctx, s.GoBin, s.Root)
	if err != nil {
		return f, err
	}
	names := []string{"BenchmarkRequestFingerprint", "BenchmarkRequestDecode"}
	m := &medians{benches: benches}
	f.Tables = []Table{benchTable(m, names, []string{"ns/op", "B/op", "allocs/op"})}
	fp, dec, allocs := m.get(names[0], "ns/op"), m.get(names[1], "ns/op"), m.get(names[0], "allocs/op")
	if m.err != nil {
		return f, m.err
	}
	f.Result = fmt.Sprintf("%s ns per request, %.1f× its decode, %.0f allocs/op", num(fp), fp/dec, allocs)
	f.Status, f.Margin = NoGoal, ""
	if s.purchaseRate > 0 {
		share := 100 * fp / (1e9 / s.purchaseRate)
		f.Result += fmt.Sprintf("; **%.2f %%** of a durable purchase at %s/s", share, num(s.purchaseRate))
		f.Status, f.Margin = margin(share, 2, false)
	}
	if allocs > 0 {
		f.Status, f.Margin = Missed, fmt.Sprintf("missed: %.0f allocs/op where 0 is the goal", allocs)
	}
	return f, nil
}
