package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/muster-dev/muster/state"
)

// The handlers of the secret routes. No route ever answers a secret's
// value: a value goes only to the agent running an execution that refers
// to it.

// secretStore returns the server's secret store, or an error saying there
// is none.
func (s *server) secretStore() (SecretStore, error) {
	ss, ok := s.b.(SecretStore)
	if !ok {
		return nil, &Error{Status: http.StatusNotFound, Code: CodeUnknownRoute, Message: "this control plane stores no secrets"}
	}
	return ss, nil
}

// secretErr makes a store without a key a clear 501: another control
// plane of the same store has no other key to offer, so it is not retried.
func secretErr(err error) error {
	if errors.Is(err, state.ErrNoSecretKey) {
		return &Error{Status: http.StatusNotImplemented, Code: CodeInternal, Message: err.Error()}
	}
	return err
}

func (s *server) putSecret(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.secretStore()
	if err != nil {
		return err
	}
	ns, name := r.PathValue("ns"), r.PathValue("name")
	if err := state.CheckSecret(ns, name); err != nil {
		return err
	}
	value, err := io.ReadAll(http.MaxBytesReader(w, r.Body, state.MaxSecretSize))
	if err != nil {
		return err
	}
	if err := ss.PutSecret(r.Context(), ns, name, value); err != nil {
		return secretErr(err)
	}
	writeJSON(w, http.StatusOK, state.SecretInfo{Namespace: ns, Name: name, Size: len(value)})
	return nil
}

func (s *server) listSecrets(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.secretStore()
	if err != nil {
		return err
	}
	p := principalOf(r)
	ns := r.URL.Query().Get("namespace")
	if ns == "" {
		ns = p.namespace // every namespace the token covers
	}
	if ns != state.AllNamespaces {
		if err := state.CheckNamespace(ns); err != nil {
			return err
		}
	}
	if err := p.allowsNamespace(ns); err != nil {
		return err
	}
	out, err := ss.Secrets(r.Context(), ns)
	if err != nil {
		return secretErr(err)
	}
	writeJSON(w, http.StatusOK, list(out))
	return nil
}

func (s *server) deleteSecret(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.secretStore()
	if err != nil {
		return err
	}
	ns, name := r.PathValue("ns"), r.PathValue("name")
	if err := state.CheckSecret(ns, name); err != nil {
		return err
	}
	if err := ss.DeleteSecret(r.Context(), ns, name); err != nil {
		return secretErr(err)
	}
	writeJSON(w, http.StatusOK, empty{})
	return nil
}
