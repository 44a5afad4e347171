package api

import (
	"net/http"
	"slices"

	"github.com/muster-dev/muster/state"
)

// The handlers of /v1/info and of the job routes.

// jobRef returns the validated {ns} and {name} of a job route.
func jobRef(r *http.Request) (ns, name string, err error) {
	ns, name = r.PathValue("ns"), r.PathValue("name")
	return ns, name, checkJobRef(ns, name)
}

func (s *server) info(w http.ResponseWriter, r *http.Request) error {
	info, err := s.c.Info(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

func (s *server) jobs(w http.ResponseWriter, r *http.Request) error {
	jobs, err := s.b.Jobs(r.Context())
	if err != nil {
		return err
	}
	// A token for one namespace sees the jobs of that namespace.
	p := principalOf(r)
	jobs = slices.DeleteFunc(jobs, func(j state.JobStatus) bool { return !p.covers(j.Namespace) })
	writeJSON(w, http.StatusOK, list(jobs))
	return nil
}

func (s *server) job(w http.ResponseWriter, r *http.Request) error {
	ns, name, err := jobRef(r)
	if err != nil {
		return err
	}
	st, err := s.b.Job(r.Context(), ns, name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *server) history(w http.ResponseWriter, r *http.Request) error {
	ns, name, err := jobRef(r)
	if err != nil {
		return err
	}
	versions, err := s.b.History(r.Context(), ns, name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(versions))
	return nil
}

func (s *server) commitVersion(w http.ResponseWriter, r *http.Request) error {
	ns, name, err := jobRef(r)
	if err != nil {
		return err
	}
	var req commitRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if err := checkHash("spec", req.Hash); err != nil {
		return err
	}
	if err := s.checkSpecOf(r, ns, name, req.Hash); err != nil {
		return err
	}
	st, err := s.b.CommitVersion(r.Context(), ns, name, req.Hash, req.BaseRevision, state.JobState(req.State))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *server) executions(w http.ResponseWriter, r *http.Request) error {
	ns, name, err := jobRef(r)
	if err != nil {
		return err
	}
	execs, err := s.b.Executions(r.Context(), ns, name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(execs))
	return nil
}

func (s *server) readLog(w http.ResponseWriter, r *http.Request) error {
	ns, name, err := jobRef(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := checkExecutionID(id); err != nil {
		return err
	}
	q := r.URL.Query()
	stream, err := checkStream(q.Get("stream"))
	if err != nil {
		return err
	}
	offset, err := parseOffset(q.Get("offset"))
	if err != nil {
		return err
	}
	b, err := s.c.ReadLog(r.Context(), ns, name, id, stream, offset)
	if err != nil {
		return err
	}
	writeBytes(w, contentBytes, b)
	return nil
}

func (s *server) rollout(w http.ResponseWriter, r *http.Request) error {
	ns, name, err := jobRef(r)
	if err != nil {
		return err
	}
	var req rolloutRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if req.Version < 1 {
		return badf("invalid version %d: versions start at 1", req.Version)
	}
	if err := s.c.Rollout(r.Context(), ns, name, req.Version, req.Promote); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, empty{})
	return nil
}

func (s *server) promote(w http.ResponseWriter, r *http.Request) error {
	ns, name, err := jobRef(r)
	if err != nil {
		return err
	}
	if err := s.c.Promote(r.Context(), ns, name); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, empty{})
	return nil
}

func (s *server) stop(w http.ResponseWriter, r *http.Request) error {
	ns, name, err := jobRef(r)
	if err != nil {
		return err
	}
	n, err := s.c.Stop(r.Context(), ns, name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, stopResponse{Stopped: n})
	return nil
}
