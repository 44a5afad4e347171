package runner

import (
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// storeOutputs stores every existing output under root as a document. An
// output path that names a directory stores each regular file in it; a
// missing path is skipped, as SPEC section 2 says.
func (a *Agent) storeOutputs(ctx context.Context, root string, j *schema.Job) ([]state.Document, error) {
	var docs []state.Document
	for _, out := range j.Task.Outputs {
		p := filepath.Join(root, filepath.FromSlash(out.Path))
		info, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !info.IsDir() {
			d, err := a.storeFile(ctx, p, out.Path)
			if err != nil {
				return docs, err
			}
			docs = append(docs, d)
			continue
		}
		err = filepath.WalkDir(p, func(file string, e fs.DirEntry, err error) error {
			if err != nil || !e.Type().IsRegular() {
				return err
			}
			rel, _ := filepath.Rel(p, file)
			d, err := a.storeFile(ctx, file, path.Join(out.Path, filepath.ToSlash(rel)))
			if err == nil {
				docs = append(docs, d)
			}
			return err
		})
		if err != nil {
			return docs, err
		}
	}
	return docs, nil
}

func (a *Agent) storeFile(ctx context.Context, file, p string) (state.Document, error) {
	f, err := os.Open(file)
	if err != nil {
		return state.Document{}, err
	}
	defer f.Close()
	hash, size, err := a.Store.PutDocument(ctx, f)
	return state.Document{Path: p, Hash: hash, Size: size}, err
}
