package state

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// SecretKeyEnv names the environment variable that gives the secret key,
// base64 of 32 bytes; it takes precedence over the key file.
const SecretKeyEnv = "MUSTER_SECRET_KEY"

// SecretKeyFile is the key file's name in a state directory.
const SecretKeyFile = "secret.key"

// LoadSecretKey returns the secret key of a control plane: MUSTER_SECRET_KEY
// (base64) when set, else LoadOrCreateSecretKey(dir).
func LoadSecretKey(dir string) ([]byte, error) {
	if key, ok, err := SecretKeyFromEnv(); ok || err != nil {
		return key, err
	}
	return LoadOrCreateSecretKey(dir)
}

// SecretKeyFromEnv returns the key MUSTER_SECRET_KEY gives (base64 of 32
// bytes); ok is false when it is not set.
func SecretKeyFromEnv() (key []byte, ok bool, err error) {
	v := strings.TrimSpace(os.Getenv(SecretKeyEnv))
	if v == "" {
		return nil, false, nil
	}
	key, err = base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, true, fmt.Errorf("%s: not base64: %w", SecretKeyEnv, err)
	}
	if len(key) != SecretKeySize {
		return nil, true, fmt.Errorf("%s: %d bytes, want %d (base64 of 32 random bytes)", SecretKeyEnv, len(key), SecretKeySize)
	}
	return key, true, nil
}

// LoadOrCreateSecretKey reads the key file secret.key in dir, creating it
// with 32 random bytes and mode 0600 when missing. A key file readable or
// writable by group or others is refused, as is one of the wrong size.
func LoadOrCreateSecretKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, SecretKeyFile)
	key, err := readSecretKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	key = make([]byte, SecretKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readSecretKey(path) // made by another process meanwhile
	} else if err != nil {
		return nil, fmt.Errorf("create secret key: %w", err)
	}
	_, err = f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("write secret key %s: %w", path, err)
	}
	return key, nil
}

// readSecretKey reads and checks a key file.
func readSecretKey(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret key %s has mode %v: it must be readable by its owner only (chmod 600 %s)", path, fi.Mode().Perm(), path)
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	if len(key) != SecretKeySize {
		return nil, fmt.Errorf("secret key %s: %d bytes, want %d", path, len(key), SecretKeySize)
	}
	return key, nil
}
