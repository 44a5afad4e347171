package api

import "net/http"

// The handlers of the sensitive paths of specs.

// sensitiveBody is the body of POST /v1/specs/{hash}/sensitive and the
// answer of both sensitive routes: the paths of a spec's sensitive values
// (see package sensitive), never null.
type sensitiveBody struct {
	Paths []string `json:"paths"`
}

func (s *server) sensitivePaths(w http.ResponseWriter, r *http.Request) error {
	hash := r.PathValue("hash")
	if err := checkHash("spec", hash); err != nil {
		return err
	}
	paths, err := s.b.SensitivePaths(r.Context(), hash)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sensitiveBody{Paths: list(paths)})
	return nil
}

func (s *server) addSensitivePaths(w http.ResponseWriter, r *http.Request) error {
	hash := r.PathValue("hash")
	if err := checkHash("spec", hash); err != nil {
		return err
	}
	var in sensitiveBody
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.allowsSpec(r, hash); err != nil {
		return err
	}
	paths, err := s.b.AddSensitivePaths(r.Context(), hash, in.Paths)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sensitiveBody{Paths: list(paths)})
	return nil
}
