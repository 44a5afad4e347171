package api

// The JSON bodies of requests and responses that are not state types.

// commitRequest is the body of POST /v1/jobs/{ns}/{name}/versions.
type commitRequest struct {
	Hash         string `json:"hash"`
	BaseRevision uint64 `json:"base_revision"`
	State        string `json:"state"`
}

// rolloutRequest is the body of POST /v1/jobs/{ns}/{name}/rollout.
type rolloutRequest struct {
	Version int  `json:"version"`
	Promote bool `json:"promote"`
}

// stopResponse answers POST /v1/jobs/{ns}/{name}/stop.
type stopResponse struct {
	Stopped int `json:"stopped"`
}

// hashResponse answers POST /v1/specs and GET /v1/specs?prefix=P.
type hashResponse struct {
	Hash string `json:"hash"`
}

// documentResponse answers POST /v1/documents.
type documentResponse struct {
	Hash string `json:"hash"`
	Size int64  `json:"size"`
}

// empty answers the routes that return nothing: {}.
type empty struct{}

// Limits of request bodies.
const (
	// maxJSONBody bounds JSON bodies and specs.
	maxJSONBody = 4 << 20
	// maxDocumentBody bounds an uploaded document.
	maxDocumentBody = 1 << 30
)

// Content types.
const (
	contentJSON   = "application/json"
	contentNDJSON = "application/x-ndjson"
	contentBytes  = "application/octet-stream"
)
