package app

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/credential"
)

// MasterKey resolves the key that wraps tenant data keys: master_key, else
// master_key_file. With neither on SQLite, a key file is created beside the
// database (mode 0600) so that `accord serve` works on a fresh clone while
// secrets stay encrypted at rest; PostgreSQL deployments must name one.
func MasterKey(cfg *config.Config, logger *slog.Logger) (credential.MasterKey, error) {
	if cfg.MasterKey != "" {
		return credential.ParseMasterKey(cfg.MasterKey)
	}
	if cfg.MasterKeyFile != "" {
		return credential.MasterKeyFromFile(cfg.MasterKeyFile)
	}
	dialect, path, err := config.ParseDB(cfg.DB)
	if err != nil {
		return credential.MasterKey{}, err
	}
	if dialect != "sqlite" {
		return credential.MasterKey{}, errors.New("no master key: set master_key_file (or ACCORD_MASTER_KEY_FILE) to a file holding a base64 32-byte key; `accord keys generate` makes one")
	}
	keyFile := path + ".key"
	k, err := credential.MasterKeyFromFile(keyFile)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return credential.MasterKey{}, err
	}
	encoded, err := credential.GenerateMasterKey()
	if err != nil {
		return credential.MasterKey{}, err
	}
	f, err := os.OpenFile(keyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return credential.MasterKey{}, fmt.Errorf("creating master key file: %w", err)
	}
	if _, err := f.WriteString(encoded + "\n"); err != nil {
		f.Close()
		return credential.MasterKey{}, fmt.Errorf("writing master key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return credential.MasterKey{}, fmt.Errorf("writing master key file: %w", err)
	}
	logger.Warn("created a master key file beside the database; back it up, and set master_key_file in production", "path", keyFile)
	return credential.ParseMasterKey(encoded)
}
