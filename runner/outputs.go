package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"time"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// DefaultMaxOutputSize is what one execution may store when
// Agent.MaxOutputSize is zero: 1 GiB.
const DefaultMaxOutputSize = 1 << 30

// DefaultOutputTimeout bounds storing one execution's outputs when
// Agent.OutputTimeout is zero.
const DefaultOutputTimeout = 10 * time.Minute

// maxOutputDepth bounds how deep storing walks an output directory.
const maxOutputDepth = 256

// errOutputTimeout is the cause of an output context that ran out of time.
var errOutputTimeout = errors.New("storing outputs took too long")

// outputContext is the context outputs are stored under: ended by a stop
// (ctx) and by the agent's output timeout.
func (a *Agent) outputContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, a.outputTimeout(), errOutputTimeout)
}

func (a *Agent) outputTimeout() time.Duration {
	if a.OutputTimeout > 0 {
		return a.OutputTimeout
	}
	return DefaultOutputTimeout
}

func (a *Agent) maxOutputSize() int64 {
	if a.MaxOutputSize > 0 {
		return a.MaxOutputSize
	}
	return DefaultMaxOutputSize
}

// SizeText writes a byte count as the --max-output-size flag takes it:
// "1G", "512M", "64K", or "100 bytes".
func SizeText(n int64) string {
	switch {
	case n > 0 && n%(1<<30) == 0:
		return fmt.Sprintf("%dG", n>>30)
	case n > 0 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n > 0 && n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// collector stores the outputs of one execution.
type collector struct {
	ctx     context.Context
	store   *state.Store
	root    *os.Root
	limit   int64 // the agent's limit, for the reason
	left    int64 // bytes the execution may still store
	docs    []state.Document
	skipped []state.SkippedOutput
	cut     bool // the context ended before everything was stored
}

// storeOutputs stores every existing output under root as a document,
// through an os.Root, and returns what it stored and what it skipped with
// why. An output path that names a directory stores each regular file in
// it; a missing path is skipped without a record, as docs/spec.md section 2 says.
// Nothing outside root is read, nothing that is not a regular file is
// opened for reading, and nothing blocks: when ctx ends, what is left is
// recorded as not collected and cut is true. err is about the store.
func (a *Agent) storeOutputs(ctx context.Context, root string, j *schema.Job) (docs []state.Document, skipped []state.SkippedOutput, cut bool, err error) {
	if len(j.Task.Outputs) == 0 {
		return nil, nil, false, nil
	}
	r, err := OpenRoot(root)
	if err != nil {
		return nil, nil, false, err
	}
	defer r.Close()
	c := &collector{ctx: ctx, store: a.Store, root: r, limit: a.maxOutputSize(), left: a.maxOutputSize()}
	for _, out := range j.Task.Outputs {
		if err := c.output(out.Path); err != nil {
			return c.docs, c.skipped, c.cut, err
		}
	}
	return c.docs, c.skipped, c.cut, nil
}

// output stores one output path: a file, or the files of a directory.
func (c *collector) output(p string) error {
	if c.ended(p) {
		return nil
	}
	rel, err := RelPath(p)
	if err != nil {
		c.skip(p, err.Error())
		return nil
	}
	fi, err := c.root.Lstat(rel)
	if err != nil {
		if reason := PathReason(c.root, rel, err); reason != "" {
			c.skip(p, reason)
		}
		return nil
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if fi, err = c.root.Stat(rel); err != nil {
			c.skip(p, linkReason(p, err))
			return nil
		}
	}
	switch {
	case fi.IsDir():
		return c.walk(rel, p, 0)
	case fi.Mode().IsRegular():
		return c.file(rel, p)
	}
	c.skip(p, "not a regular file ("+Kind(fi.Mode())+")")
	return nil
}

// walk stores the regular files under directory rel (docPath in the job),
// in name order. It does not descend through symbolic links; a link to a
// regular file inside the root is stored.
func (c *collector) walk(rel, docPath string, depth int) error {
	if c.ended(docPath) {
		return nil
	}
	if depth > maxOutputDepth {
		c.skip(docPath, fmt.Sprintf("more than %d directories deep", maxOutputDepth))
		return nil
	}
	entries, err := c.readDir(rel)
	if err != nil {
		c.skip(docPath, orText(PathReason(c.root, rel, err), err.Error()))
		return nil
	}
	for _, e := range entries {
		crel, cdoc := path.Join(rel, e.Name()), path.Join(docPath, e.Name())
		if c.cut || c.ended(cdoc) {
			return nil
		}
		var err error
		switch t := e.Type(); {
		case t.IsDir():
			err = c.walk(crel, cdoc, depth+1)
		case t.IsRegular():
			err = c.file(crel, cdoc)
		case t&fs.ModeSymlink != 0:
			fi, serr := c.root.Stat(crel)
			switch {
			case serr != nil:
				c.skip(cdoc, linkReason(cdoc, serr))
			case fi.Mode().IsRegular():
				err = c.file(crel, cdoc)
			case fi.IsDir():
				c.skip(cdoc, "symlink to a directory (not followed inside an output directory)")
			default:
				c.skip(cdoc, "not a regular file ("+Kind(fi.Mode())+")")
			}
		default:
			c.skip(cdoc, "not a regular file ("+Kind(t)+")")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readDir lists directory rel inside the root, sorted by name, opening it
// without blocking and checking it is a directory.
func (c *collector) readDir(rel string) ([]fs.DirEntry, error) {
	f, err := c.root.OpenFile(rel, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &NotRegularError{Reason: "not a directory (" + Kind(fi.Mode()) + ")"}
	}
	entries, err := f.ReadDir(-1)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return entries, err
}

// file stores regular file rel as docPath, unless it would take the
// execution past its limit.
func (c *collector) file(rel, docPath string) error {
	f, fi, err := OpenRegular(c.root, rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // gone since it was listed
	}
	if err != nil {
		c.skip(docPath, orText(PathReason(c.root, rel, err), err.Error()))
		return nil
	}
	defer f.Close()
	if fi.Size() > c.left {
		c.skip(docPath, c.limitReason(fi.Size()))
		return nil
	}
	lr := &limitedReader{ctx: c.ctx, r: f, left: c.left}
	hash, size, err := c.store.PutDocument(c.ctx, lr)
	switch {
	case lr.over:
		c.skip(docPath, fmt.Sprintf("output limit %s reached (the file grew past it while it was stored)", SizeText(c.limit)))
		return nil
	case err != nil && c.ctx.Err() != nil:
		c.ended(docPath)
		return nil
	case err != nil:
		return err
	}
	c.left -= size
	c.docs = append(c.docs, state.Document{Path: docPath, Hash: hash, Size: size})
	return nil
}

func (c *collector) limitReason(size int64) string {
	return fmt.Sprintf("output limit %s reached (%s stored, this file has %d bytes)", SizeText(c.limit), SizeText(c.limit-c.left), size)
}

// ended reports whether the context ended, and then records p as not
// collected.
func (c *collector) ended(p string) bool {
	if c.ctx.Err() == nil {
		return false
	}
	c.cut = true
	why := "the execution was stopped"
	if errors.Is(context.Cause(c.ctx), errOutputTimeout) {
		why = "storing outputs took too long"
	}
	c.skip(p, "not collected: "+why)
	return true
}

func (c *collector) skip(p, reason string) {
	c.skipped = append(c.skipped, state.SkippedOutput{Path: p, Reason: reason})
}

// limitedReader reads r while ctx lasts and up to left bytes; over is set
// when r has more.
type limitedReader struct {
	ctx  context.Context
	r    io.Reader
	left int64
	over bool
}

// errOverLimit ends a read that passes the output limit.
var errOverLimit = errors.New("output limit reached")

func (l *limitedReader) Read(p []byte) (int, error) {
	if err := l.ctx.Err(); err != nil {
		return 0, err
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		l.over = true
		return n, errOverLimit
	}
	return n, err
}

// skipNote says in a few words that outputs were skipped, for the
// execution's status message; "" when none were.
func skipNote(skipped []state.SkippedOutput) string {
	switch len(skipped) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("; 1 output skipped: %s: %s", skipped[0].Path, skipped[0].Reason)
	}
	return fmt.Sprintf("; %d outputs skipped (first %s: %s)", len(skipped), skipped[0].Path, skipped[0].Reason)
}
