package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/muster-dev/muster/state"
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
		if _, err := a.placeDocument(ctx, image, func(src io.Reader) (state.Document, error) { return writeFile(tmp, src) }); err != nil {
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
		body, err := get(ctx, image)
		if err != nil {
			return "", err
		}
		defer body.Close()
		tmp := dst + ".part"
		if _, err := writeFile(tmp, body); err != nil {
			return "", err
		}
		return dst, os.Rename(tmp, dst)
	}
	return "", fmt.Errorf("wasm module %q: want an absolute path, an http(s):// URL or a sha256: document", image)
}
