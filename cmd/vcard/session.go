package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"ecardgw/cardio/vcard"
	"ecardgw/gateway/logging"
)

// insertTimeout bounds waiting for pcscd's vpcd listener.
const insertTimeout = 10 * time.Second

// session is the interactive side of the command.
type session struct {
	card *vcard.Card
	addr string
	out  io.Writer
}

func (s *session) exec(ctx context.Context, line string) error {
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil
	}
	switch {
	case f[0] == "insert" && len(f) == 1:
		ictx, cancel := context.WithTimeout(ctx, insertTimeout)
		defer cancel()
		if err := s.card.Insert(ictx, s.addr); err != nil {
			return fmt.Errorf("%w (is pcscd running with vsmartcard-vpcd?)", err)
		}
		fmt.Fprintf(s.out, "card inserted at %s\n", s.addr)
	case f[0] == "remove" && len(f) == 1:
		s.card.Remove()
		fmt.Fprintln(s.out, "card removed")
	case f[0] == "spend" && len(f) == 2:
		fen, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return fmt.Errorf("spend %q: want fen", f[1])
		}
		if err := s.card.Spend(fen); err != nil {
			return err
		}
		s.status()
	case f[0] == "status" && len(f) == 1:
		s.status()
	default:
		return fmt.Errorf("unknown command %q", line)
	}
	return nil
}

func (s *session) status() {
	fmt.Fprintf(s.out, "card %s: wallet %d fen, load counter %d, %d log records\n",
		logging.MaskPAN(vcard.DemoCardNumber), s.card.Balance(), s.card.Counter(), len(s.card.Log()))
}
