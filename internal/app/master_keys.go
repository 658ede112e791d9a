package app

import (
	"bytes"
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
