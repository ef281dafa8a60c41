package chanemu

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"ecardgw/gateway/config"
	"ecardgw/gateway/paychan"
	"ecardgw/store"
)

// The demo merchant (make run CHANNELS=emulator): fixed ids, fresh keys.
const (
	DemoWeChatAppID = "wx0000000000000001"
	DemoWeChatMchID = "1900000001"
	DemoAlipayAppID = "2021000000000001"
	DemoWeChatPayer = "oDemoPayerWeChat000000000001"
	DemoAlipayPayer = "2088000000000001"
)

// KeyFile is the emulator's own key file (mode 0600): the merchant it
// accepts and its Alipay signing key.
type KeyFile struct {
	WeChatAppID        string `yaml:"wechat_app_id"`
	WeChatMchID        string `yaml:"wechat_mch_id"`
	WeChatAPIKey       string `yaml:"wechat_api_key"`
	AlipayAppID        string `yaml:"alipay_app_id"`
	AlipayAppPublicKey string `yaml:"alipay_app_public_key"` // PEM, the merchant application's
	AlipayPrivateKey   string `yaml:"alipay_private_key"`    // PEM, "Alipay's"
}

// Command is the chanemu command line: "serve" and "demo". cmd/chanemu
// only runs it.
func Command() *cobra.Command {
	root := &cobra.Command{
		Use:           "chanemu",
		Short:         "The payment channel emulator (WeChat Pay v2 payment code, Alipay bar code)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), demoCmd())
	return root
}

// Execute runs the command line and returns the exit code.
func Execute(args []string) int {
	cmd := Command()
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "chanemu:", err)
		return 1
	}
	return 0
}

func serveCmd() *cobra.Command {
	var (
		keyPath, listen, certFile, keyFile, caFile string
		demoPayers                                 bool
	)
	cmd := &cobra.Command{
		Use:   "serve --keys FILE --listen ADDR",
		Short: "Serve both channels' APIs and the control endpoints",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := LoadKeyFile(keyPath)
			if err != nil {
				return err
			}
			if demoPayers {
				o.WeChatPayer, o.AlipayPayer = DemoWeChatPayer, DemoAlipayPayer
			}
			var tc *tls.Config
			if certFile != "" || keyFile != "" {
				cert, err := tls.LoadX509KeyPair(certFile, keyFile)
				if err != nil {
					return err
				}
				tc = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
				if caFile != "" {
					b, err := os.ReadFile(caFile)
					if err != nil {
						return err
					}
					pool := x509.NewCertPool()
					if !pool.AppendCertsFromPEM(b) {
						return fmt.Errorf("%s holds no PEM certificate", caFile)
					}
					tc.ClientCAs, tc.ClientAuth = pool, tls.VerifyClientCertIfGiven
					o.RequireClientCert = true
				}
			}
			emu := New(o)
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			if tc != nil {
				ln = tls.NewListener(ln, tc)
			}
			srv := &http.Server{Handler: emu.Handler(), ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintf(cmd.OutOrStdout(), "chanemu listening on %s\n", ln.Addr())
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			select {
			case err := <-done:
				return err
			case <-ctx.Done():
			}
			emu.Close()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyPath, "keys", "", "the emulator's key file (chanemu demo writes one) (required)")
	f.StringVar(&listen, "listen", "127.0.0.1:8490", "address to listen on (the control endpoints are unauthenticated: keep it on loopback)")
	f.StringVar(&certFile, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	f.StringVar(&keyFile, "tls-key", "", "private key of --tls-cert (PEM)")
	f.StringVar(&caFile, "client-ca", "", "require a merchant certificate from this CA on /secapi/ (PEM)")
	f.BoolVar(&demoPayers, "demo-payers", false, "every code pays as the demo payers (bound by chanemu demo)")
	_ = cmd.MarkFlagRequired("keys")
	return cmd
}

// LoadKeyFile reads the emulator's key file (refusing one group or others
// may read).
func LoadKeyFile(path string) (Options, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Options{}, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return Options{}, fmt.Errorf("%s has mode %04o; chmod 600", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Options{}, err
	}
	var k KeyFile
	if err := yaml.Unmarshal(b, &k); err != nil {
		return Options{}, fmt.Errorf("%s: not the emulator's key file", path)
	}
	o := Options{WeChatAppID: k.WeChatAppID, WeChatMchID: k.WeChatMchID, WeChatAPIKey: []byte(k.WeChatAPIKey), AlipayAppID: k.AlipayAppID}
	if blk, _ := pem.Decode([]byte(k.AlipayAppPublicKey)); blk != nil {
		if pub, err := x509.ParsePKIXPublicKey(blk.Bytes); err == nil {
			o.AppPublicKey, _ = pub.(*rsa.PublicKey)
		}
	}
	if blk, _ := pem.Decode([]byte(k.AlipayPrivateKey)); blk != nil {
		if priv, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
			o.AlipayKey, _ = priv.(*rsa.PrivateKey)
		}
	}
	if o.AppPublicKey == nil || o.AlipayKey == nil || len(o.WeChatAPIKey) != 32 {
		return Options{}, fmt.Errorf("%s: incomplete (wechat_api_key, alipay_app_public_key, alipay_private_key)", path)
	}
	return o, nil
}

func demoCmd() *cobra.Command {
	var cfgPath string
	var account uint64
	cmd := &cobra.Command{
		Use:   "demo --config ./var/ecardgw.yaml",
		Short: "Make the demo gateway's channels the emulator",
		Long: `For make run CHANNELS=emulator, after "ecardgw demo init": write the
emulator's key file chanemu.yaml beside the gateway's configuration (once),
put the matching merchant credentials in the gateway's key file (section
channels), and bind the demo payers (chanemu serve --demo-payers) to
--account in the gateway's store. The gateway must not be running. The
channel URLs and ids go to the gateway as environment variables (see the
Makefile and docs/payments.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return demo(cfgPath, account, cmd)
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "./var/ecardgw.yaml", "the demo gateway's configuration")
	cmd.Flags().Uint64Var(&account, "account", 0, "the account the demo payers are bound to (default: the store's first)")
	return cmd
}

func demo(cfgPath string, account uint64, cmd *cobra.Command) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	keys, err := config.LoadKeys(cfg.Keys.File)
	if err != nil {
		return err
	}
	emuPath := filepath.Join(filepath.Dir(cfgPath), "chanemu.yaml")
	kf, err := demoKeyFile(emuPath)
	if err != nil {
		return err
	}
	appKey, err := decodePriv(kf.appPrivate)
	if err != nil {
		return err
	}
	alipayPub := kf.alipayPublic
	keys.Channels = config.ChannelKeys{WeChatAPIKey: config.Secret(kf.WeChatAPIKey),
		AlipayAppKey: config.Secret(encodePriv(appKey)), AlipayPublicKey: config.Secret(alipayPub)}
	if err := config.WriteKeys(cfg.Keys.File, keys); err != nil {
		return err
	}
	db, err := store.Open(cfg.Store.Path, store.Options{StorageKey: keys.StorageKey})
	if err != nil {
		return fmt.Errorf("store %s (is the gateway running?): %w", cfg.Store.Path, err)
	}
	defer db.Close()
	err = db.Update(cmd.Context(), func(tx *store.Tx) error {
		if account == 0 {
			account, err = firstAccount(tx)
			if err != nil {
				return err
			}
		}
		if err := paychan.Bind(tx, store.ChannelWeChat, DemoWeChatPayer, account, time.Now()); err != nil && !errors.Is(err, paychan.ErrBoundElsewhere) {
			return err
		}
		if err := paychan.Bind(tx, store.ChannelAlipay, DemoAlipayPayer, account, time.Now()); err != nil && !errors.Is(err, paychan.ErrBoundElsewhere) {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "chanemu: %s written; %s has the channels; demo payers bound to account %d\n", emuPath, cfg.Keys.File, account)
	return nil
}

// demoFiles is the emulator key file plus the gateway's halves of it.
type demoFiles struct {
	KeyFile
	appPrivate   string // PEM, goes to the gateway
	alipayPublic string // PEM, goes to the gateway
}

// demoKeyFile loads the emulator key file at path, or makes one. The
// application's private key is kept in it too (as a demo convenience: a
// real channel never holds it) so that a second run reuses the keys.
func demoKeyFile(path string) (demoFiles, error) {
	type withApp struct {
		KeyFile    `yaml:",inline"`
		AppPrivate string `yaml:"demo_app_private_key"`
	}
	var w withApp
	if b, err := os.ReadFile(path); err == nil {
		if err := yaml.Unmarshal(b, &w); err != nil {
			return demoFiles{}, fmt.Errorf("%s: %w", path, err)
		}
	} else {
		api := make([]byte, 16)
		_, _ = rand.Read(api)
		app, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return demoFiles{}, err
		}
		ali, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return demoFiles{}, err
		}
		appPub, _ := x509.MarshalPKIXPublicKey(&app.PublicKey)
		w = withApp{KeyFile: KeyFile{WeChatAppID: DemoWeChatAppID, WeChatMchID: DemoWeChatMchID, WeChatAPIKey: hex.EncodeToString(api),
			AlipayAppID: DemoAlipayAppID, AlipayAppPublicKey: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: appPub})),
			AlipayPrivateKey: string(encodePriv(ali))}, AppPrivate: string(encodePriv(app))}
		b, err := yaml.Marshal(w)
		if err != nil {
			return demoFiles{}, err
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return demoFiles{}, err
		}
	}
	ali, err := decodePriv(w.AlipayPrivateKey)
	if err != nil {
		return demoFiles{}, fmt.Errorf("%s: %w", path, err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&ali.PublicKey)
	return demoFiles{KeyFile: w.KeyFile, appPrivate: w.AppPrivate,
		alipayPublic: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))}, nil
}

func encodePriv(k *rsa.PrivateKey) []byte {
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func decodePriv(s string) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode([]byte(s))
	if blk == nil {
		return nil, errors.New("no PEM private key")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return rk, nil
}

func firstAccount(tx *store.Tx) (uint64, error) {
	var first uint64
	err := tx.ForEachAccount(func(a *store.Account) error {
		if first == 0 {
			first = a.No
		}
		return nil
	})
	if first == 0 && err == nil {
		err = errors.New("the store has no accounts: run ecardgw accounts import first")
	}
	return first, err
}
