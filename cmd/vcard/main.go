// Command vcard runs the virtual campus card against pcscd's vpcd reader
// for manual tests: `ecardgw cards watch` in one terminal, `vcard --keys
// var/keys.yaml` in another, then type insert, remove, spend N, status.
//
// The card's load key is derived from the wallet master load key of the
// gateway's key file, so settlement loads authorised by that gateway
// succeed against it.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"ecardgw/cardio/vcard"
	"ecardgw/gateway/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vcard:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("vcard", flag.ContinueOnError)
	fs.SetOutput(out)
	keys := fs.String("keys", "", "gateway key `FILE` (its wallet_master_load_key derives the card's load key)")
	addr := fs.String("addr", vcard.Slot0Addr, "vpcd `ADDRESS` (slot 1 is "+vcard.Slot1Addr+")")
	balance := fs.Int64("balance", 350, "initial wallet balance in `FEN`")
	counter := fs.Uint("counter", 0, "initial online (load) counter")
	keyVersion := fs.Uint("key-version", 1, "the card's load key `VERSION` (DF08, 1 to 255): its master key is the key file's for that version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keys == "" {
		return fmt.Errorf("--keys is required")
	}
	k, err := config.LoadKeys(*keys)
	if err != nil {
		return err
	}
	if *keyVersion < 1 || *keyVersion > 255 {
		return fmt.Errorf("--key-version %d: want 1 to 255", *keyVersion)
	}
	wk, _ := k.WalletKey(byte(*keyVersion))
	var master [16]byte
	if copy(master[:], wk) != len(master) {
		return fmt.Errorf("key file: no 16-byte wallet master load key for key version %d", *keyVersion)
	}
	cfg := vcard.DemoConfig(master)
	cfg.KeyVersion = byte(*keyVersion)
	cfg.Balance = *balance
	if *counter > 0xFFFF {
		return fmt.Errorf("--counter %d: at most 65535", *counter)
	}
	cfg.Counter = uint16(*counter)
	card, err := vcard.New(cfg)
	if err != nil {
		return err
	}
	s := &session{card: card, addr: *addr, out: out}
	defer card.Remove()
	if err := s.exec(ctx, "insert"); err != nil {
		return err
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			lines <- sc.Text()
		}
		// stdin closed: keep the card in until a signal, as a card left
		// on a reader stays there.
	}()
	fmt.Fprintln(out, "commands: insert, remove, spend FEN, status, quit")
	for {
		select {
		case <-ctx.Done():
			return nil
		case l := <-lines:
			if l == "quit" {
				return nil
			}
			if err := s.exec(ctx, l); err != nil {
				fmt.Fprintln(out, "error:", err)
			}
		}
	}
}
