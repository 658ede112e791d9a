package app

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

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
		warnIfExposed(cfg.MasterKeyFile, logger)
		return credential.MasterKeyFromFile(cfg.MasterKeyFile)
	}
	dialect, path, err := config.ParseDB(cfg.DB)
	if err != nil {
		return credential.MasterKey{}, err
	}
	if dialect != "sqlite" {
		return credential.MasterKey{}, errors.New("no master key: set master_key_file (or ACCORD_MASTER_KEY_FILE) to a file holding a base64 32-byte key; `accord keys generate` makes one")
	}
	keyFile := autoKeyFile(path)
	k, err := credential.MasterKeyFromFile(keyFile)
	if err == nil {
		warnIfExposed(keyFile, logger)
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return credential.MasterKey{}, err
	}
	encoded, err := credential.GenerateMasterKey()
	if err != nil {
		return credential.MasterKey{}, err
	}
	if err := writeKeyFile(keyFile, encoded); err != nil {
		return credential.MasterKey{}, err
	}
	// A missing file is also what a lost key looks like: if the database
	// already holds data keys, CheckMasterKeys refuses to start with this
	// new key instead of letting every secret fail later.
	logger.Warn("created a master key file beside the database; back it up, and set master_key_file in production", "path", keyFile)
	return credential.ParseMasterKey(encoded)
}

// writeKeyFile creates path holding encoded, mode 0600, and makes it
// durable before returning: data keys wrapped by this key may be committed
// right after, and a key file lost to a crash would make them unopenable.
// The key is written to a temporary file and linked into place, so path
// never exists half-written and an existing file is never replaced.
func writeKeyFile(path, encoded string) error {
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("creating master key file: %w", err)
	}
	defer os.Remove(tmp)
	_, err = f.WriteString(encoded + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing master key file: %w", err)
	}
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("creating master key file: %w", err)
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		_ = dir.Sync() // the new directory entry survives a crash too
		_ = dir.Close()
	}
	return nil
}

// autoKeyFile is where MasterKey keeps the key of a SQLite database that
// names none.
func autoKeyFile(dbPath string) string { return dbPath + ".key" }

// warnIfExposed warns when a key file can be read by other users: the key
// opens every stored secret. It does not refuse (a mounted secret may show
// wider bits than it enforces), but says how to fix it.
func warnIfExposed(path string, logger *slog.Logger) {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return
	}
	logger.Warn("master key file is readable by other users; chmod 600 it", "path", path, "mode", fi.Mode().Perm().String())
}
