// Package credential is Accord's credential vault: connection secrets are
// encrypted at rest with AES-256-GCM envelope encryption.
//
// Every tenant has its own 256-bit data key. The data key is stored only
// wrapped (encrypted) by a master key held by a KMS; the LocalKMS reads the
// master key from a file or an environment variable, and a cloud KMS can
// plug in behind the same two-method interface. Sealed values carry a
// version byte and are bound to their tenant (the tenant id is the GCM
// associated data), so a ciphertext copied to another tenant's row does not
// open.
//
// Master key rotation (RotateMaster) re-wraps every data key under the new
// master key without touching the sealed values, so it is fast and runs while
// the engine keeps serving: unwrapped data keys stay cached, and a vault that
// has started a rotation can unwrap with the old and the new master key.
//
// Secret is the decrypted form of a connection's credentials. It redacts
// itself in fmt, slog and JSON so that it cannot reach logs, errors or API
// responses by accident.
package credential
