package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/accordhq/accord/internal/app"
	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/credential"
)

func init() {
	register(&command{
		name:    "keys generate",
		summary: "print a new random master key (base64), or write it to a new file",
		usage:   "[--out FILE]",
		example: "accord keys generate --out /etc/accord/master-2.key",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			out := fs.String("out", "", "write the key to this new file (mode 0600) instead of standard output")
			return func(ctx context.Context, args []string) error {
				key, err := credential.GenerateMasterKey()
				if err != nil {
					return err
				}
				if *out == "" {
					fmt.Fprintln(env.Stdout, key)
					return nil
				}
				if err := writeNewKeyFile(*out, key); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "master key written to %s\n", *out)
				return nil
			}
		},
	})
	register(&command{
		name:    "keys rotate",
		summary: "re-wrap every tenant's data key with a new master key (the engine may keep running)",
		usage:   "--new-key-file FILE [--db DSN] [--master-key-file CURRENT]",
		flags:   []string{"new-key-file", "db", "config", "master-key", "master-key-file", "master-key-previous-file", "log-level", "log-format"},
		example: "accord keys rotate --db postgres://postgres@127.0.0.1:5432/accord --master-key-file old.key --new-key-file new.key",
		setup: func(fs *flag.FlagSet, env *Env) runFunc {
			loader := config.Bind(fs)
			loader.Env = env.Getenv
			newKeyFile := fs.String("new-key-file", "", "file holding the new base64 master key (accord keys generate --out FILE)")
			return func(ctx context.Context, args []string) error {
				if *newKeyFile == "" {
					return errors.New("--new-key-file is required: make one with accord keys generate --out FILE")
				}
				cfg, logger, err := loadConfig(loader, env)
				if err != nil {
					return err
				}
				n, err := rotateMasterKey(ctx, cfg, *newKeyFile, logger)
				if err != nil {
					return err
				}
				current := cfg.MasterKeyFile
				if current == "" {
					current = "the current key file"
				}
				fmt.Fprintf(env.Stdout, "re-wrapped %d data key%s with the new master key\n", n, plural(n))
				fmt.Fprintf(env.Stdout, "next: restart every Accord process with master_key_file=%s and master_key_previous_file=%s,\n"+
					"then run this command again (it re-wraps any data key an old process created meanwhile; expect 0)\n"+
					"before dropping master_key_previous_file. Keep a backup of the old key until then.\n", *newKeyFile, current)
				return nil
			}
		},
	})
}

// rotateMasterKey opens the store and the vault with the configured keys
// and re-wraps every data key with the key in newKeyFile. Running processes
// keep the data keys they have cached; one that has to unwrap a data key
// already re-wrapped needs the new key, hence the restart that follows (or,
// for no failed unwrap at all, start them beforehand with the new key as
// master_key_previous_file).
func rotateMasterKey(ctx context.Context, cfg *config.Config, newKeyFile string, logger *slog.Logger) (int, error) {
	next, err := credential.MasterKeyFromFile(newKeyFile)
	if err != nil {
		return 0, fmt.Errorf("new key: %w", err)
	}
	if cfg.MasterKey == "" && cfg.MasterKeyFile == "" {
		// app.MasterKey would create a key beside a SQLite database: a
		// rotation must start from the key that wrapped the data.
		return 0, errors.New("name the current master key with --master-key-file (or master_key_file in the config)")
	}
	st, err := app.OpenStore(ctx, cfg, logger)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	current, retired, err := app.MasterKeys(cfg, logger)
	if err != nil {
		return 0, err
	}
	if bytes.Equal(current.Key, next.Key) {
		return 0, errors.New("the new key is the current master key: generate a new one with accord keys generate")
	}
	kms, err := credential.NewLocalKMS(current, retired...)
	if err != nil {
		return 0, err
	}
	vault, err := credential.NewVault(st, kms, &credential.Config{Logger: logger})
	if err != nil {
		return 0, err
	}
	nextKMS, err := credential.NewLocalKMS(next, append([]credential.MasterKey{current}, retired...)...)
	if err != nil {
		return 0, err
	}
	n, err := vault.RotateMaster(ctx, nextKMS)
	if err != nil {
		return n, fmt.Errorf("%w (re-wrapped %d before the failure; run the command again to finish)", err, n)
	}
	return n, nil
}

// writeNewKeyFile refuses to overwrite: replacing a key file loses every
// secret it protects.
func writeNewKeyFile(path, key string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("creating key file: %w", err)
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("writing key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing key file: %w", err)
	}
	return nil
}
