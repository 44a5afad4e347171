package wasm

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"
	"time"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"
)

// rootFS is the file system a module sees: the execution root, through an
// os.Root. Every path is resolved inside the root and no symbolic link is
// followed out of it, whether absolute or relative, at the end of a path or
// in its middle: opening, reading, writing, renaming or linking through such
// a link fails (EPERM), so a module cannot reach a node file by planting a
// link. A module cannot create an absolute link, nor a relative one that
// climbs out of the root as written.
//
// Paths come from wazero clean, relative and without "..", as fs.ValidPath
// has them, with "." for the root itself.
type rootFS struct {
	experimentalsys.UnimplementedFS
	r *os.Root
}

var _ experimentalsys.FS = (*rootFS)(nil)

// errno maps an error of an os.Root operation to a WASI errno. An error
// that carries no errno is os.Root refusing a path that leaves the root:
// EPERM, as wazero answers for a path that escapes a preopen.
func errno(err error) experimentalsys.Errno {
	if err == nil || err == io.EOF {
		return 0
	}
	var se syscall.Errno
	if errors.As(err, &se) {
		return experimentalsys.UnwrapOSError(se)
	}
	for _, known := range []error{fs.ErrNotExist, fs.ErrExist, fs.ErrPermission, fs.ErrClosed, fs.ErrInvalid} {
		if errors.Is(err, known) {
			return experimentalsys.UnwrapOSError(known)
		}
	}
	return experimentalsys.EPERM
}

// OpenFile opens path in the root. O_NOFOLLOW refuses a final link
// (ELOOP); any other link is followed inside the root only.
func (rfs *rootFS) OpenFile(name string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	if flag&experimentalsys.O_NOFOLLOW != 0 {
		if fi, err := rfs.r.Lstat(name); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, experimentalsys.ELOOP
		}
	}
	f, err := rfs.r.OpenFile(name, osFlag(flag), perm.Perm())
	if err != nil {
		return nil, errno(err)
	}
	rf, e := newRootFile(rfs, name, flag, f)
	if e != 0 {
		f.Close()
		return nil, e
	}
	return rf, 0
}

// osFlag maps WASI open flags to os.OpenFile's.
func osFlag(flag experimentalsys.Oflag) int {
	var f int
	switch flag & (experimentalsys.O_RDONLY | experimentalsys.O_RDWR | experimentalsys.O_WRONLY) {
	case experimentalsys.O_RDWR:
		f = os.O_RDWR
	case experimentalsys.O_WRONLY:
		f = os.O_WRONLY
	default:
		f = os.O_RDONLY
	}
	for _, m := range []struct {
		wasi experimentalsys.Oflag
		os   int
	}{
		{experimentalsys.O_APPEND, os.O_APPEND},
		{experimentalsys.O_CREAT, os.O_CREATE},
		{experimentalsys.O_EXCL, os.O_EXCL},
		{experimentalsys.O_SYNC, os.O_SYNC},
		{experimentalsys.O_TRUNC, os.O_TRUNC},
	} {
		if flag&m.wasi != 0 {
			f |= m.os
		}
	}
	return f | sysFlag(flag)
}

// Lstat describes path without following a final link.
func (rfs *rootFS) Lstat(name string) (sys.Stat_t, experimentalsys.Errno) {
	fi, err := rfs.r.Lstat(name)
	if err != nil {
		return sys.Stat_t{}, errno(err)
	}
	return sys.NewStat_t(fi), 0
}

// Stat describes path, following links inside the root.
func (rfs *rootFS) Stat(name string) (sys.Stat_t, experimentalsys.Errno) {
	fi, err := rfs.r.Stat(name)
	if err != nil {
		return sys.Stat_t{}, errno(err)
	}
	return sys.NewStat_t(fi), 0
}

// Mkdir makes a directory.
func (rfs *rootFS) Mkdir(name string, perm fs.FileMode) experimentalsys.Errno {
	e := errno(rfs.r.Mkdir(name, perm.Perm()))
	if e == experimentalsys.ENOTDIR {
		e = experimentalsys.ENOENT
	}
	return e
}

// Chmod changes a mode, following links inside the root.
func (rfs *rootFS) Chmod(name string, perm fs.FileMode) experimentalsys.Errno {
	return errno(rfs.r.Chmod(name, perm.Perm()))
}

// Rename renames within the root.
func (rfs *rootFS) Rename(from, to string) experimentalsys.Errno {
	if from == to {
		return 0
	}
	return errno(rfs.r.Rename(from, to))
}

// Rmdir removes an empty directory.
func (rfs *rootFS) Rmdir(name string) experimentalsys.Errno {
	fi, err := rfs.r.Lstat(name)
	if err != nil {
		return errno(err)
	}
	if !fi.IsDir() {
		return experimentalsys.ENOTDIR
	}
	return errno(rfs.r.Remove(name))
}

// Unlink removes what is not a directory.
func (rfs *rootFS) Unlink(name string) experimentalsys.Errno {
	fi, err := rfs.r.Lstat(name)
	if err != nil {
		return errno(err)
	}
	if fi.IsDir() {
		return experimentalsys.EISDIR
	}
	return errno(rfs.r.Remove(name))
}

// Link makes a hard link; both names are in the root.
func (rfs *rootFS) Link(oldName, newName string) experimentalsys.Errno {
	return errno(rfs.r.Link(oldName, newName))
}

// Symlink makes a symbolic link at linkName to oldName, refusing (EPERM)
// a target that is absolute or climbs out of the root as written. Whatever
// a link says, following it never leaves the root.
func (rfs *rootFS) Symlink(oldName, linkName string) experimentalsys.Errno {
	if path.IsAbs(oldName) || !fs.ValidPath(path.Join(path.Dir(linkName), oldName)) {
		return experimentalsys.EPERM
	}
	return errno(rfs.r.Symlink(oldName, linkName))
}

// Readlink reads a link.
func (rfs *rootFS) Readlink(name string) (string, experimentalsys.Errno) {
	s, err := rfs.r.Readlink(name)
	return s, errno(err)
}

// Utimens sets times, following links inside the root.
func (rfs *rootFS) Utimens(name string, atim, mtim int64) experimentalsys.Errno {
	if atim == experimentalsys.UTIME_OMIT && mtim == experimentalsys.UTIME_OMIT {
		return 0
	}
	return errno(rfs.r.Chtimes(name, timeOf(atim), timeOf(mtim)))
}

// timeOf is a WASI time in ns since the epoch; the zero time for
// UTIME_OMIT, which os.Root.Chtimes leaves unchanged.
func timeOf(ns int64) time.Time {
	if ns == experimentalsys.UTIME_OMIT {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// rootFile is a file opened in a rootFS. Reading, writing, seeking and
// listing go through wazero's fs.FS adapter (sysfs.AdaptFS) over the
// *os.File the root opened; what the adapter does not do (append mode,
// truncate, sync, times, non-blocking mode) is done here.
type rootFile struct {
	experimentalsys.File // the adapter over o.f

	rfs    *rootFS
	name   string // in the root
	flag   experimentalsys.Oflag
	o      *openFile
	closed bool
}

var _ experimentalsys.File = (*rootFile)(nil)

// openFile is the *os.File under a rootFile, which a rewound directory
// replaces.
type openFile struct{ f *os.File }

// newRootFile wraps f, opened in rfs as name with flag.
func newRootFile(rfs *rootFS, name string, flag experimentalsys.Oflag, f *os.File) (*rootFile, experimentalsys.Errno) {
	rf := &rootFile{rfs: rfs, name: name, flag: flag, o: &openFile{f: f}}
	af, e := (&sysfs.AdaptFS{FS: &fileFS{r: rfs.r, o: rf.o}}).OpenFile(name, flag, 0)
	if e != 0 {
		return nil, e
	}
	rf.File = af
	return rf, 0
}

// fileFS is the fs.FS the adapter opens a rootFile through: its first Open
// returns the file the root opened; a later one (the adapter reopens a
// directory to rewind it) opens the name again through the root.
type fileFS struct {
	r    *os.Root
	o    *openFile
	used bool
}

func (x *fileFS) Open(name string) (fs.File, error) {
	if !x.used {
		x.used = true
		return x.o.f, nil
	}
	f, err := x.r.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		x.o.f = f // the adapter takes it in place of the old one
	}
	return f, nil
}

// IsAppend reports whether writes append.
func (f *rootFile) IsAppend() bool { return f.flag&experimentalsys.O_APPEND != 0 }

// SetAppend turns appending on or off, by reopening the file through the
// root (Go fixes the append mode at open) at the same offset.
func (f *rootFile) SetAppend(enable bool) experimentalsys.Errno {
	if e := f.regular(); e != 0 {
		return e
	}
	flag := f.flag &^ (experimentalsys.O_CREAT | experimentalsys.O_TRUNC | experimentalsys.O_EXCL | experimentalsys.O_APPEND)
	if enable {
		flag |= experimentalsys.O_APPEND
	}
	off, err := f.o.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return errno(err)
	}
	nf, err := f.rfs.r.OpenFile(f.name, osFlag(flag), 0)
	if err != nil {
		return errno(err)
	}
	fi1, err1 := f.o.f.Stat()
	fi2, err2 := nf.Stat()
	if err1 != nil || err2 != nil || !os.SameFile(fi1, fi2) {
		nf.Close()
		return experimentalsys.ENOENT // renamed or replaced since it was opened
	}
	if _, err := nf.Seek(off, io.SeekStart); err != nil {
		nf.Close()
		return errno(err)
	}
	nrf, e := newRootFile(f.rfs, f.name, flag, nf)
	if e != 0 {
		nf.Close()
		return e
	}
	f.File.Close()
	f.File, f.flag, f.o = nrf.File, flag, nrf.o
	return 0
}

// regular refuses an operation on a directory, or on a closed file.
func (f *rootFile) regular() experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	dir, e := f.File.IsDir()
	switch {
	case e != 0:
		return e
	case dir:
		return experimentalsys.EISDIR
	}
	return 0
}

// Truncate sets the size.
func (f *rootFile) Truncate(size int64) experimentalsys.Errno {
	if e := f.regular(); e != 0 {
		return e
	}
	if size < 0 {
		return experimentalsys.EINVAL
	}
	return errno(f.o.f.Truncate(size))
}

// Sync flushes the file.
func (f *rootFile) Sync() experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	return errno(f.o.f.Sync())
}

// Datasync flushes the file's data (a full sync here).
func (f *rootFile) Datasync() experimentalsys.Errno { return f.Sync() }

// Utimens sets the file's times, through its name in the root.
func (f *rootFile) Utimens(atim, mtim int64) experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	return f.rfs.Utimens(f.name, atim, mtim)
}

// IsNonblock reports whether the file was set non-blocking.
func (f *rootFile) IsNonblock() bool { return f.flag&experimentalsys.O_NONBLOCK != 0 }

// SetNonblock records the mode and sets it on the descriptor.
func (f *rootFile) SetNonblock(enable bool) experimentalsys.Errno {
	if f.closed {
		return experimentalsys.EBADF
	}
	if e := setNonblock(f.o.f, enable); e != 0 {
		return e
	}
	if enable {
		f.flag |= experimentalsys.O_NONBLOCK
	} else {
		f.flag &^= experimentalsys.O_NONBLOCK
	}
	return 0
}

// Close closes the file; closing twice is not an error.
func (f *rootFile) Close() experimentalsys.Errno {
	if f.closed {
		return 0
	}
	f.closed = true
	return f.File.Close()
}
