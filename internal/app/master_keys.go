package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/accordhq/accord/internal/config"
	"github.com/accordhq/accord/internal/credential"
)

// MasterKeys resolves the process's master keys: current (MasterKey's
// resolution) wraps new data keys; retired, from master_key_previous_file,
// only unwraps. After `accord keys rotate`, processes restart with the new
// key as master_key_file and the old one as master_key_previous_file, so a
// data key wrapped by the old key in the meantime still opens. Build the
// vault's KMS with credential.NewLocalKMS(current, retired...).
func MasterKeys(cfg *config.Config, logger *slog.Logger) (current credential.MasterKey, retired []credential.MasterKey, err error) {
	current, err = MasterKey(cfg, logger)
	if err != nil {
		return credential.MasterKey{}, nil, err
	}
	if cfg.MasterKeyPreviousFile == "" {
		return current, nil, nil
	}
	prev, err := credential.MasterKeyFromFile(cfg.MasterKeyPreviousFile)
	if err != nil {
		return credential.MasterKey{}, nil, fmt.Errorf("master_key_previous_file: %w", err)
	}
	// The same key twice (a rotation undone, a copy-paste) is harmless:
	// keep one rather than fail on a duplicate key id.
	if bytes.Equal(prev.Key, current.Key) {
		return current, nil, nil
	}
	return current, []credential.MasterKey{prev}, nil
}

// CheckMasterKeys refuses to start when stored data keys are wrapped by a
// master key this process does not hold: the error names the key id and
// where this process took its key from, so the operator can put the right
// one back. Without it a lost SQLite key file was silently regenerated and
// every secret then failed with 500.
func CheckMasterKeys(ctx context.Context, cfg *config.Config, v *credential.Vault) error {
	err := v.CheckMasterKeys(ctx)
	var missing *credential.MissingMasterKeyError
	if !errors.As(err, &missing) {
		return err
	}
	return fmt.Errorf("refusing to start: %w; this process's key comes from %s", err, keySource(cfg))
}

// keySource says where MasterKey took the current key from, for messages.
func keySource(cfg *config.Config) string {
	switch {
	case cfg.MasterKey != "":
		return "master_key (ACCORD_MASTER_KEY)"
	case cfg.MasterKeyFile != "":
		return fmt.Sprintf("master_key_file %s", cfg.MasterKeyFile)
	}
	if dialect, path, err := config.ParseDB(cfg.DB); err == nil && dialect == "sqlite" {
		return fmt.Sprintf("%s, which is created anew when missing: restore the original file from a backup, or set master_key_file to it", autoKeyFile(path))
	}
	return "nowhere"
}
