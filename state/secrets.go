package state

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Secrets. A secret's value never belongs in a spec: a spec refers to it as
// "secret:<namespace>/<name>" and the control plane hands the value only to
// the agent running an execution that refers to it. The store keeps every
// value encrypted with AES-256-GCM under the control plane's secret key
// (SetSecretKey). A stored value reads key id (8 bytes) | nonce (12 bytes)
// | ciphertext and tag; the additional data is the key id and the secret's
// namespace/name, so a value copied to another key or name does not
// decrypt.

// bucketSecrets is the KV bucket of secrets, by "namespace.name".
const bucketSecrets = "secrets"

// MaxSecretSize bounds a secret's value, in bytes.
const MaxSecretSize = 64 << 10

// SecretKeySize is the size of a secret key: AES-256.
const SecretKeySize = 32

// secretKeyIDSize is the size of a key id, the first bytes of the key's
// sha256.
const secretKeyIDSize = 8

// ErrNoSecretKey is matched by every secret read or write of a store that
// was given no secret key.
var ErrNoSecretKey = errors.New("the store has no secret key: secrets cannot be stored or read")

// SecretInfo describes a stored secret; never its value.
type SecretInfo struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Updated   time.Time `json:"updated"`
	// Size is the value's length in bytes.
	Size int `json:"size"`
}

// secretKey is a store's key with its AEAD and id.
type secretKey struct {
	id   []byte
	aead cipher.AEAD
}

// newSecretKey checks key and makes its AEAD.
func newSecretKey(key []byte) (*secretKey, error) {
	if len(key) != SecretKeySize {
		return nil, fmt.Errorf("secret key: %d bytes, want %d", len(key), SecretKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	sum := sha256.Sum256(key)
	return &secretKey{id: sum[:secretKeyIDSize], aead: aead}, nil
}

// SetSecretKey gives the store the 32-byte key secrets are encrypted with
// (LoadSecretKey finds it). A store without a key refuses secrets.
func (s *Store) SetSecretKey(key []byte) error {
	k, err := newSecretKey(key)
	if err != nil {
		return err
	}
	s.root().secretKey.Store(k)
	return nil
}

// root is the store a fenced view was made of, or s itself.
func (s *Store) root() *Store {
	if s.base != nil {
		return s.base
	}
	return s
}

// key returns the store's secret key or ErrNoSecretKey.
func (s *Store) key() (*secretKey, error) {
	k := s.root().secretKey.Load()
	if k == nil {
		return nil, ErrNoSecretKey
	}
	return k, nil
}

// CheckSecret validates a secret's namespace and name: the namespace as a
// job's, the name 1 to 128 letters, digits, '-' or '_'. The error matches
// ErrInvalid.
func CheckSecret(ns, name string) error {
	if err := checkLabel("namespace", ns); err != nil {
		return err
	}
	return checkToken("secret name", name)
}

// secretAD is the additional data of a secret's ciphertext.
func secretAD(k *secretKey, ns, name string) []byte {
	return append(append([]byte{}, k.id...), ns+"/"+name...)
}

// PutSecret stores value as the secret ns/name, replacing any value it had.
func (s *Store) PutSecret(ctx context.Context, ns, name string, value []byte) error {
	if err := CheckSecret(ns, name); err != nil {
		return err
	}
	if len(value) > MaxSecretSize {
		return invalidf("secret %s/%s: %d bytes, at most %d", ns, name, len(value), MaxSecretSize)
	}
	k, err := s.key()
	if err != nil {
		return err
	}
	kv, err := s.kv(ctx, bucketSecrets)
	if err != nil {
		return err
	}
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	out := append(append([]byte{}, k.id...), nonce...)
	out = k.aead.Seal(out, nonce, value, secretAD(k, ns, name))
	if _, err := kv.Put(ctx, ns+"."+name, out); err != nil {
		return fmt.Errorf("store secret %s/%s: %w", ns, name, err)
	}
	return nil
}

// Secret returns the value of the secret ns/name, decrypted. A secret that
// is not stored is ErrNotFound; one stored under another key is an error
// that says so.
func (s *Store) Secret(ctx context.Context, ns, name string) ([]byte, error) {
	if err := CheckSecret(ns, name); err != nil {
		return nil, err
	}
	k, err := s.key()
	if err != nil {
		return nil, err
	}
	kv, err := s.kv(ctx, bucketSecrets)
	if err != nil {
		return nil, err
	}
	e, err := kv.Get(ctx, ns+"."+name)
	if isNotFound(err) {
		return nil, notFound("secret %s/%s", ns, name)
	} else if err != nil {
		return nil, fmt.Errorf("read secret %s/%s: %w", ns, name, err)
	}
	return k.open(ns, name, e.Value())
}

// open decrypts a stored value of the secret ns/name.
func (k *secretKey) open(ns, name string, b []byte) ([]byte, error) {
	ns0 := k.aead.NonceSize()
	if len(b) < secretKeyIDSize+ns0+k.aead.Overhead() {
		return nil, fmt.Errorf("secret %s/%s: stored value is damaged (%d bytes)", ns, name, len(b))
	}
	if id := b[:secretKeyIDSize]; string(id) != string(k.id) {
		return nil, fmt.Errorf("secret %s/%s was stored with secret key %s, the store has key %s: give the control plane the key it was stored with",
			ns, name, hex.EncodeToString(id), hex.EncodeToString(k.id))
	}
	nonce := b[secretKeyIDSize : secretKeyIDSize+ns0]
	v, err := k.aead.Open(nil, nonce, b[secretKeyIDSize+ns0:], secretAD(k, ns, name))
	if err != nil {
		return nil, fmt.Errorf("secret %s/%s: stored value does not decrypt (damaged or moved from another name)", ns, name)
	}
	return v, nil
}

// Secrets lists the secrets of namespace ns (every namespace when ns is
// AllNamespaces), sorted by namespace and name; never their values.
func (s *Store) Secrets(ctx context.Context, ns string) ([]SecretInfo, error) {
	filter := ">"
	if ns != AllNamespaces {
		if err := CheckNamespace(ns); err != nil {
			return nil, err
		}
		filter = ns + ".*"
	}
	kv, err := s.kv(ctx, bucketSecrets)
	if err != nil {
		return nil, err
	}
	entries, err := watchValues(ctx, kv, filter)
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	out := make([]SecretInfo, 0, len(entries))
	overhead := secretKeyIDSize + 12 + 16 // key id, GCM nonce and tag
	for _, e := range entries {
		ens, name, _ := strings.Cut(e.Key(), ".")
		out = append(out, SecretInfo{Namespace: ens, Name: name, Updated: e.Created().UTC(), Size: max(len(e.Value())-overhead, 0)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// DeleteSecret removes the secret ns/name, purging its stored values. A
// secret that is not stored is ErrNotFound.
func (s *Store) DeleteSecret(ctx context.Context, ns, name string) error {
	if err := CheckSecret(ns, name); err != nil {
		return err
	}
	kv, err := s.kv(ctx, bucketSecrets)
	if err != nil {
		return err
	}
	key := ns + "." + name
	if _, err := kv.Get(ctx, key); isNotFound(err) {
		return notFound("secret %s/%s", ns, name)
	} else if err != nil {
		return fmt.Errorf("read secret %s/%s: %w", ns, name, err)
	}
	if err := kv.Purge(ctx, key); err != nil {
		return fmt.Errorf("delete secret %s/%s: %w", ns, name, err)
	}
	return nil
}
