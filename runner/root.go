package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
)

// The execution root is a security boundary: everything the agent and the
// drivers open, create or copy inside a root goes through an os.Root, which
// never follows a symbolic link out of it (absolute links and relative ones
// that climb out are refused), and nothing that is not a regular file is
// ever read. The helpers below are what the agent and the drivers share.

// OpenRoot opens the execution root at dir for confined access. It refuses
// a dir that is itself a symbolic link (or anything but a directory), so a
// root replaced by a link cannot redirect the agent.
func OpenRoot(dir string) (*os.Root, error) {
	fi, err := os.Lstat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("execution root %s is %s, not a directory", dir, kindArticle(fi.Mode()))
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	st, err := r.Stat(".")
	if err != nil || !os.SameFile(fi, st) {
		r.Close()
		return nil, fmt.Errorf("execution root %s changed while it was opened", dir)
	}
	return r, nil
}

// RelPath maps a job path (an input target or an output path: absolute,
// clean, slash-separated) to its name inside the root: "/out/r.txt" is
// "out/r.txt", "/" is ".". Anything else is an error, so a path read from
// the store cannot climb out of the root.
func RelPath(p string) (string, error) {
	if !path.IsAbs(p) || path.Clean(p) != p || strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("path %q is not absolute and clean", p)
	}
	if p == "/" {
		return ".", nil
	}
	return p[1:], nil
}

// NotRegularError says why a path inside a root was not read or written:
// it is not a regular file, or it is reached through a symbolic link that
// leaves the root.
type NotRegularError struct {
	// Reason is in words, for the execution's record: "not a regular file
	// (fifo)", "symlink leaves the execution root".
	Reason string
}

func (e *NotRegularError) Error() string { return e.Reason }

// notRegular returns the error for mode, or nil for a regular file.
func notRegular(mode fs.FileMode) error {
	if mode.IsRegular() {
		return nil
	}
	return &NotRegularError{Reason: "not a regular file (" + Kind(mode) + ")"}
}

// Kind names the type of a file mode in words: "fifo", "socket", "device",
// "char device", "directory", "symlink", "regular file" or "irregular file".
func Kind(mode fs.FileMode) string {
	switch {
	case mode.IsRegular():
		return "regular file"
	case mode&fs.ModeNamedPipe != 0:
		return "fifo"
	case mode&fs.ModeSocket != 0:
		return "socket"
	case mode&fs.ModeCharDevice != 0:
		return "char device"
	case mode&fs.ModeDevice != 0:
		return "device"
	case mode.IsDir():
		return "directory"
	case mode&fs.ModeSymlink != 0:
		return "symlink"
	}
	return "irregular file"
}

func kindArticle(mode fs.FileMode) string {
	k := Kind(mode)
	if strings.IndexByte("aeiou", k[0]) >= 0 {
		return "an " + k
	}
	return "a " + k
}

// linkReason says why a symbolic link at name (inside r) cannot be
// followed, given the error of resolving it.
func linkReason(name string, err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "symlink " + name + " points to a missing file"
	case errors.Is(err, syscall.ELOOP):
		return "symlink " + name + ": too many levels of symbolic links"
	}
	return "symlink " + name + " leaves the execution root"
}

// PathReason explains why name cannot be reached inside r when an
// operation on it failed with err: it finds the first component that is a
// symbolic link leaving the root (or dangling, or looping). It returns ""
// when no component explains it (the path is simply missing).
func PathReason(r *os.Root, name string, err error) string {
	var nre *NotRegularError
	if errors.As(err, &nre) {
		return nre.Reason
	}
	parts := strings.Split(name, "/")
	for i := range parts {
		prefix := strings.Join(parts[:i+1], "/")
		fi, lerr := r.Lstat(prefix)
		if lerr != nil {
			break
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if _, serr := r.Stat(prefix); serr != nil {
				return linkReason("/"+prefix, serr)
			}
		} else if i < len(parts)-1 && !fi.IsDir() {
			return "/" + prefix + " is " + kindArticle(fi.Mode()) + ", not a directory"
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	return err.Error()
}

// RealDir checks that name is a directory inside r reached through no
// symbolic link at all: every component is checked with Lstat. A driver
// checks a directory this way before it hands its host path to something
// that resolves paths on its own (a bind mount, a chdir).
func RealDir(r *os.Root, name string) error {
	if name == "." {
		return nil
	}
	parts := strings.Split(name, "/")
	for i := range parts {
		prefix := strings.Join(parts[:i+1], "/")
		fi, err := r.Lstat(prefix)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("/%s is %s, not a directory", prefix, kindArticle(fi.Mode()))
		}
	}
	return nil
}

// RealFile checks that name is a regular file inside r reached through no
// symbolic link, as RealDir does for directories.
func RealFile(r *os.Root, name string) error {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		if err := RealDir(r, name[:i]); err != nil {
			return err
		}
	}
	fi, err := r.Lstat(name)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("/%s is %s, not a regular file", name, kindArticle(fi.Mode()))
	}
	return nil
}

// OpenRegular opens name inside r for reading, only if it is a regular
// file, and without ever blocking: it checks with Lstat (and Stat through a
// link, which must stay inside r) before it opens, opens non-blocking so
// that a FIFO swapped in meanwhile cannot hang it, and checks the open file
// again. What is not a regular file is a *NotRegularError.
func OpenRegular(r *os.Root, name string) (*os.File, os.FileInfo, error) {
	return openRegular(r, name, os.O_RDONLY, 0)
}

// CreateRegular creates or truncates name inside r for writing, creating
// its directory, without ever blocking and only as a regular file: an
// existing FIFO, socket, device or directory there is refused, and a
// symbolic link is followed only inside r.
func CreateRegular(r *os.Root, name string, perm fs.FileMode) (*os.File, error) {
	if dir := path.Dir(name); dir != "." {
		if err := r.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	f, _, err := openRegular(r, name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	return f, err
}

// openRegular opens name inside r with flag, as OpenRegular does: an
// existing name must be a regular file (through a link that stays inside
// r), and the open file is checked again.
func openRegular(r *os.Root, name string, flag int, perm fs.FileMode) (*os.File, os.FileInfo, error) {
	fi, err := r.Lstat(name)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if fi, err = r.Stat(name); err != nil && (flag&os.O_CREATE == 0 || !errors.Is(err, fs.ErrNotExist)) {
			return nil, nil, &NotRegularError{Reason: linkReason("/"+name, err)}
		}
	}
	switch {
	case err == nil:
		if err := notRegular(fi.Mode()); err != nil {
			return nil, nil, err
		}
	case flag&os.O_CREATE == 0 || !errors.Is(err, fs.ErrNotExist):
		return nil, nil, err
	}
	f, err := r.OpenFile(name, flag|nonblock, perm)
	if err != nil {
		return nil, nil, err
	}
	if fi, err = f.Stat(); err == nil {
		err = notRegular(fi.Mode())
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}
