package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"ecardgw/cardio/apdu"
	"ecardgw/cardio/campuscard"
	"ecardgw/cardio/desk"
	"ecardgw/cardio/reader"
	"ecardgw/gateway/logging"
)

// newCardsCmd is `ecardgw cards`: the gateway's own PC/SC readers.
func newCardsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cards",
		Short: "The gateway's own card readers (PC/SC through pcscd)",
	}
	cmd.AddCommand(newCardsWatchCmd())
	return cmd
}

func newCardsWatchCmd() *cobra.Command {
	var (
		patterns []string
		forDur   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "watch [--reader PATTERN]... [--for DURATION]",
		Short: "Follow readers and cards and print what each campus card holds (card number masked)",
		Long: "Follows readers being plugged in and out and cards being presented, and prints\n" +
			"for each campus card its masked card number, account, holder and wallet balance.\n" +
			"It only reads cards. Stop it with Ctrl-C, or give --for.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var bindings []reader.Binding
			for _, p := range patterns {
				bindings = append(bindings, reader.Binding{Pattern: p, Role: reader.RoleDesk})
			}
			if forDur < 0 {
				return usagef("--for %s: must not be negative", forDur)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if forDur > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, forDur)
				defer cancel()
			}
			err := watchCards(ctx, cmd.OutOrStdout(), bindings)
			if errors.Is(err, reader.ErrConfig) {
				return usageError{err}
			}
			return err
		},
	}
	cmd.Flags().StringArrayVar(&patterns, "reader", nil, "watch only readers whose name matches `PATTERN` (glob; repeatable; default all)")
	cmd.Flags().DurationVar(&forDur, "for", 0, "stop after `DURATION` (default: until interrupted)")
	return cmd
}

// watchCards runs a reader manager until ctx ends, printing reader events
// and card contents to w.
func watchCards(ctx context.Context, w io.Writer, bindings []reader.Binding) error {
	p := &cardPrinter{w: w}
	m, err := reader.New(reader.Config{
		Bindings: bindings,
		OnState:  p.state,
		OnCard: func(_ context.Context, r reader.ReaderInfo, t apdu.Transmitter) {
			p.card(r, t)
		},
	})
	if err != nil {
		return err
	}
	if err := reader.Probe(); err != nil {
		return err
	}
	fmt.Fprintln(w, "watching card readers; Ctrl-C to stop")
	return m.Run(ctx)
}

// cardPrinter serialises output from the monitor and card goroutines.
type cardPrinter struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *cardPrinter) state(r reader.ReaderInfo, s reader.ReaderState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s reader %q: %s\n", time.Now().UTC().Format(time.TimeOnly), r.Name, s)
}

func (p *cardPrinter) card(r reader.ReaderInfo, t apdu.Transmitter) {
	d, err := desk.ReadCard(t)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		fmt.Fprintf(p.w, "  card on %q: %v\n", r.Name, err)
		return
	}
	fmt.Fprint(p.w, formatCard(r.Name, d))
}

// formatCard renders what a card holds. The card number is masked (first
// 2 and last 4 of its 12 digits); the UID and serial number are left out
// because either identifies the card as well as its number.
func formatCard(readerName string, d desk.CardData) string {
	counter := "unknown"
	if d.CounterKnown {
		counter = fmt.Sprint(d.Counter)
	}
	return fmt.Sprintf("  card on %q: number %s, account %d, holder %s (%s), wallet %d.%02d yuan (%d fen), load counter %s, valid to %s\n",
		readerName, logging.MaskPAN(d.Info.CardNumber()), d.Holder.Account, d.Holder.Name, cardType(d.Holder.CardType),
		d.Balance/100, d.Balance%100, d.Balance, counter, d.Info.ValidTo.Format(time.DateOnly))
}

func cardType(t byte) string {
	switch t {
	case campuscard.TypeStudent:
		return "student"
	case campuscard.TypeStaff:
		return "staff"
	case campuscard.TypeTemporary:
		return "temporary"
	}
	return fmt.Sprintf("type %02X", t)
}
