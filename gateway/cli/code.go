package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"ecardgw/gateway/campuscode"
	"ecardgw/gateway/campuscode/issuer"

	"github.com/mdp/qrterminal/v3"
	"github.com/spf13/cobra"
	"rsc.io/qr"
)

// codeNow is the clock of the code commands; tests pin it.
var codeNow = time.Now

// newCodeCmd is `ecardgw code`: the issuing side of campus codes, for
// tests, demos and integrators. Private keys come only from the files
// named on the command line, never from the gateway configuration.
func newCodeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "code",
		Short: "Campus code issuer keys, user certificates and codes (testing and integration)",
	}
	cmd.AddCommand(newCodeKeygenCmd(), newCodeCertCmd(), newCodeShowCmd())
	return cmd
}

func newCodeKeygenCmd() *cobra.Command {
	var (
		algName string
		keyID   uint32
		out     string
		force   bool
	)
	cmd := &cobra.Command{
		Use:   "keygen --alg ed25519|sm2 --key-id N --out FILE",
		Short: "Generate an issuer key pair and print its public key for campuscode.issuers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			alg, err := campuscode.ParseAlgorithm(algName)
			if err != nil {
				return fmt.Errorf("--alg %q: want ed25519 or sm2", algName)
			}
			if err := codeRefuseOverwrite(out, force); err != nil {
				return err
			}
			k, err := issuer.GenerateKey(alg, keyID, nil)
			if err != nil {
				return err
			}
			if err := k.Save(out); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "issuer key %d (%s) written to %s (mode 0600; private: keep it off the gateway)\n", keyID, alg, out)
			fmt.Fprintf(w, "public key: %x\n", k.PublicKey())
			fmt.Fprintf(w, "gateway configuration:\ncampuscode:\n  issuers:\n    - {key_id: %d, algorithm: %s, public_key: %x}\n", keyID, alg, k.PublicKey())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&algName, "alg", "ed25519", "signature algorithm: ed25519 or sm2")
	f.Uint32Var(&keyID, "key-id", 0, "issuer key id, as the gateways' key ring will name it")
	f.StringVar(&out, "out", "", "issuer key file to write (mode 0600)")
	f.BoolVar(&force, "force", false, "overwrite an existing file")
	codeRequireFlags(cmd, "key-id", "out")
	return cmd
}

func newCodeCertCmd() *cobra.Command {
	var (
		keyFile   string
		keyID     uint32
		account   uint64
		days      int
		notBefore string
		out       string
		force     bool
	)
	cmd := &cobra.Command{
		Use:   "cert --issuer-key FILE --key-id N --account A --days D --out FILE",
		Short: "Make a user key pair and certificate: a device file for `code show`",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := issuer.LoadKey(keyFile)
			if err != nil {
				return err
			}
			// The file knows its id; a different --key-id is a mix-up that
			// would produce certificates no gateway accepts.
			if cmd.Flags().Changed("key-id") && keyID != k.KeyID {
				return fmt.Errorf("--key-id %d but %s holds key %d", keyID, keyFile, k.KeyID)
			}
			if days < 1 {
				return fmt.Errorf("--days must be at least 1")
			}
			nb := codeNow().UTC().Truncate(time.Second)
			if notBefore != "" {
				if nb, err = time.Parse(time.RFC3339, notBefore); err != nil {
					return fmt.Errorf("--not-before: want RFC 3339, e.g. 2026-09-01T00:00:00Z")
				}
				nb = nb.UTC()
			}
			na := nb.Add(time.Duration(days) * 24 * time.Hour)
			if err := codeRefuseOverwrite(out, force); err != nil {
				return err
			}
			d, err := issuer.NewDevice(k, k.KeyID, account, nb, na, nil)
			if err != nil {
				return err
			}
			if err := d.Save(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "device for account %d certified by issuer key %d (%s), valid %s to %s, written to %s (mode 0600)\n",
				account, k.KeyID, k.Alg(), nb.Format(time.RFC3339), na.Format(time.RFC3339), out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyFile, "issuer-key", "", "issuer key file from `code keygen`")
	f.Uint32Var(&keyID, "key-id", 0, "issuer key id (checked against the key file; default: the file's)")
	f.Uint64Var(&account, "account", 0, "campus account number the codes pay from")
	f.IntVar(&days, "days", 365, "certificate validity in days")
	f.StringVar(&notBefore, "not-before", "", "certificate start, RFC 3339 (default: now)")
	f.StringVar(&out, "out", "", "device file to write (mode 0600)")
	f.BoolVar(&force, "force", false, "overwrite an existing file")
	codeRequireFlags(cmd, "issuer-key", "account", "out")
	return cmd
}

func newCodeShowCmd() *cobra.Command {
	var (
		devFile  string
		count    int
		interval time.Duration
		pngFile  string
		noQR     bool
	)
	cmd := &cobra.Command{
		Use:   "show --cert FILE [--count N] [--interval D] [--png FILE]",
		Short: "Show campus codes from a device file as text and QR codes",
		Long: "Show generates codes with an increasing counter, as the phone does, and\n" +
			"saves the counter in the device file before showing each one, so a\n" +
			"code is never shown twice. --png writes the latest code as a PNG image.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if count < 1 {
				return fmt.Errorf("--count must be at least 1")
			}
			d, err := issuer.LoadDevice(devFile)
			if err != nil {
				return err
			}
			if now := codeNow(); now.After(d.NotAfter()) {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: the certificate expired at %s; gateways will answer Q3\n", d.NotAfter().Format(time.RFC3339))
			}
			w := cmd.OutOrStdout()
			for i := range count {
				if i > 0 && !codeSleep(cmd, interval) {
					return cmd.Context().Err()
				}
				now := codeNow().UTC()
				text, err := d.Code(now)
				if err != nil {
					return err
				}
				if err := d.Save(devFile); err != nil {
					return err
				}
				if err := codeShowOne(w, text, d.Counter, now, !noQR); err != nil {
					return err
				}
				if pngFile != "" {
					if err := codeWritePNG(pngFile, text); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&devFile, "cert", "", "device file from `code cert` (its counter is updated)")
	f.IntVar(&count, "count", 1, "number of codes to show")
	f.DurationVar(&interval, "interval", 5*time.Second, "pause between codes")
	f.StringVar(&pngFile, "png", "", "also write the latest code as a PNG image to this file")
	f.BoolVar(&noQR, "no-qr", false, "print the text only, no terminal QR code")
	codeRequireFlags(cmd, "cert")
	return cmd
}

func codeShowOne(w io.Writer, text string, counter uint16, now time.Time, withQR bool) error {
	fmt.Fprintf(w, "campus code, counter %d, generated %s:\n%s\n", counter, now.Format(time.RFC3339), text)
	if !withQR {
		return nil
	}
	// qrterminal ignores encoding errors and would panic on a nil code;
	// encode once here first so a failure is an error, not a crash.
	if _, err := qr.Encode(text, qr.L); err != nil {
		return fmt.Errorf("qr: %w", err)
	}
	qrterminal.GenerateWithConfig(text, qrterminal.Config{
		Level:          qrterminal.L,
		Writer:         w,
		HalfBlocks:     true,
		BlackChar:      qrterminal.BLACK_BLACK,
		WhiteBlackChar: qrterminal.WHITE_BLACK,
		WhiteChar:      qrterminal.WHITE_WHITE,
		BlackWhiteChar: qrterminal.BLACK_WHITE,
		QuietZone:      2,
	})
	return nil
}

func codeWritePNG(path, text string) error {
	c, err := qr.Encode(text, qr.L)
	if err != nil {
		return fmt.Errorf("qr: %w", err)
	}
	c.Scale = 4
	return os.WriteFile(path, c.PNG(), 0o644)
}

// codeSleep waits d unless the command is cancelled (Ctrl-C on a long
// --count), reporting whether it slept the whole time.
func codeSleep(cmd *cobra.Command, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-cmd.Context().Done():
		return false
	}
}

// codeRefuseOverwrite protects an existing key or device file: overwriting an
// issuer key by accident strands every certificate it signed.
func codeRefuseOverwrite(path string, force bool) error {
	if force {
		return nil
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists; use --force to overwrite it", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func codeRequireFlags(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		if err := cmd.MarkFlagRequired(n); err != nil {
			panic(err) // a typo in a flag name: a programming error
		}
	}
}
