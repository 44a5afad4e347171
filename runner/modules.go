package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// FetchModule makes a wasm module given as task.image available as a file on
// the node: an absolute path is used as it is; a sha256: document is read
// from the document store and an http(s):// URL is downloaded, each once,
// into the agent's module cache (<Dir>/../modules). It is the wasm driver's
// Resolve.
func (a *Agent) FetchModule(ctx context.Context, image string) (string, error) {
	cache := filepath.Join(filepath.Dir(a.Dir), "modules")
	switch {
	case strings.HasPrefix(image, "/"):
		return image, nil
	case strings.HasPrefix(image, "sha256:"):
		dst := filepath.Join(cache, strings.TrimPrefix(image, "sha256:")+".wasm")
		if _, err := os.Stat(dst); err == nil {
			return dst, nil
		}
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return "", err
		}
		tmp := dst + ".part"
		if _, err := a.placeDocument(ctx, image, tmp); err != nil {
			return "", err
		}
		return dst, os.Rename(tmp, dst)
	case strings.HasPrefix(image, "http://") || strings.HasPrefix(image, "https://"):
		sum := sha256.Sum256([]byte(image))
		dst := filepath.Join(cache, "url-"+hex.EncodeToString(sum[:16])+".wasm")
		if _, err := os.Stat(dst); err == nil {
			return dst, nil
		}
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return "", err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, image, nil)
		if err != nil {
			return "", err
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("GET %s answered %s", image, resp.Status)
		}
		tmp := dst + ".part"
		if _, err := writeFile(tmp, resp.Body); err != nil {
			return "", err
		}
		return dst, os.Rename(tmp, dst)
	}
	return "", fmt.Errorf("wasm module %q: want an absolute path, an http(s):// URL or a sha256: document", image)
}
