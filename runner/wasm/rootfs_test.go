package wasm

import (
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// newRootFS makes a root holding a.txt and dir/b.txt, links out of it
// (abs, rel, mid) and into it (in), beside outside/secret.
func newRootFS(t *testing.T) (*rootFS, string, string) {
	t.Helper()
	base := t.TempDir()
	root, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
	os.MkdirAll(filepath.Join(root, "dir"), 0o755)
	os.MkdirAll(outside, 0o755)
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(root, "dir", "b.txt"), []byte("b"), 0o644)
	os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644)
	for link, target := range map[string]string{
		"abs": filepath.Join(outside, "secret"), "rel": "../outside/secret", "mid": "../outside", "in": "a.txt",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &rootFS{r: r}, root, outside
}

// TestRootFSRefusesLinksOut calls every path operation of the file system
// through links leaving the root: each is refused with EPERM, and the
// outside directory is untouched.
func TestRootFSRefusesLinksOut(t *testing.T) {
	fsys, _, outside := newRootFS(t)
	open := func(p string, flag experimentalsys.Oflag) experimentalsys.Errno {
		f, e := fsys.OpenFile(p, flag, 0o644)
		if e == 0 {
			f.Close()
		}
		return e
	}
	for name, op := range map[string]func() experimentalsys.Errno{
		"open abs":        func() experimentalsys.Errno { return open("abs", experimentalsys.O_RDONLY) },
		"open rel":        func() experimentalsys.Errno { return open("rel", experimentalsys.O_RDONLY) },
		"open mid":        func() experimentalsys.Errno { return open("mid/secret", experimentalsys.O_RDONLY) },
		"create mid":      func() experimentalsys.Errno { return open("mid/new", experimentalsys.O_WRONLY|experimentalsys.O_CREAT) },
		"trunc rel":       func() experimentalsys.Errno { return open("rel", experimentalsys.O_WRONLY|experimentalsys.O_TRUNC) },
		"stat abs":        func() experimentalsys.Errno { _, e := fsys.Stat("abs"); return e },
		"lstat mid":       func() experimentalsys.Errno { _, e := fsys.Lstat("mid/secret"); return e },
		"mkdir mid":       func() experimentalsys.Errno { return fsys.Mkdir("mid/d", 0o755) },
		"chmod rel":       func() experimentalsys.Errno { return fsys.Chmod("rel", 0o777) },
		"rename into mid": func() experimentalsys.Errno { return fsys.Rename("a.txt", "mid/a.txt") },
		"rename from mid": func() experimentalsys.Errno { return fsys.Rename("mid/secret", "stolen") },
		"rmdir mid":       func() experimentalsys.Errno { return fsys.Rmdir("mid/x") },
		"unlink mid":      func() experimentalsys.Errno { return fsys.Unlink("mid/secret") },
		"link from mid":   func() experimentalsys.Errno { return fsys.Link("mid/secret", "hard") },
		"link into mid":   func() experimentalsys.Errno { return fsys.Link("a.txt", "mid/hard") },
		"symlink abs":     func() experimentalsys.Errno { return fsys.Symlink("/etc/passwd", "p") },
		"symlink rel":     func() experimentalsys.Errno { return fsys.Symlink("../outside/secret", "p") },
		"symlink deep":    func() experimentalsys.Errno { return fsys.Symlink("../../outside", "dir/p") },
		"symlink in mid":  func() experimentalsys.Errno { return fsys.Symlink("a.txt", "mid/p") },
		"readlink mid":    func() experimentalsys.Errno { _, e := fsys.Readlink("mid/secret"); return e },
		"utimens abs":     func() experimentalsys.Errno { return fsys.Utimens("abs", 0, 0) },
	} {
		if e := op(); e != experimentalsys.EPERM {
			t.Errorf("%s: errno %v, want EPERM", name, e)
		}
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Errorf("outside holds %d entries", len(entries))
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != "secret" {
		t.Errorf("outside/secret = %q", b)
	}
	fi, _ := os.Stat(filepath.Join(outside, "secret"))
	if fi.Mode().Perm() != 0o644 || fi.ModTime().Unix() == 0 {
		t.Errorf("outside/secret changed: %v %v", fi.Mode(), fi.ModTime())
	}
}

// TestRootFSFiles: inside the root the file system behaves as WASI
// expects: links inside are followed (but not with O_NOFOLLOW), reads,
// writes, append mode, truncation, directory listing and its rewind.
func TestRootFSFiles(t *testing.T) {
	fsys, root, _ := newRootFS(t)
	if _, e := fsys.OpenFile("in", experimentalsys.O_RDONLY|experimentalsys.O_NOFOLLOW, 0); e != experimentalsys.ELOOP {
		t.Errorf("O_NOFOLLOW on a link: %v, want ELOOP", e)
	}
	f, e := fsys.OpenFile("in", experimentalsys.O_RDWR, 0)
	if e != 0 {
		t.Fatalf("open in: %v", e)
	}
	buf := make([]byte, 8)
	if n, e := f.Read(buf); e != 0 || string(buf[:n]) != "a" {
		t.Errorf("read %q %v", buf[:n], e)
	}
	if e := f.SetAppend(true); e != 0 || !f.IsAppend() {
		t.Errorf("SetAppend: %v", e)
	}
	if _, e := f.Write([]byte("+")); e != 0 {
		t.Errorf("append: %v", e)
	}
	if e := f.Truncate(1); e != 0 {
		t.Errorf("truncate: %v", e)
	}
	if _, e := f.Write([]byte("!")); e != 0 {
		t.Errorf("append: %v", e)
	}
	if e := f.Utimens(experimentalsys.UTIME_OMIT, 1e9); e != 0 {
		t.Errorf("utimens: %v", e)
	}
	if e := f.Close(); e != 0 || f.Close() != 0 {
		t.Errorf("close: %v", e)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "a.txt")); string(b) != "a!" {
		t.Errorf("a.txt = %q, want a!", b)
	}
	if fi, _ := os.Stat(filepath.Join(root, "a.txt")); fi.ModTime().Unix() != 1 {
		t.Errorf("mtime %v", fi.ModTime())
	}

	d, e := fsys.OpenFile(".", experimentalsys.O_RDONLY|experimentalsys.O_DIRECTORY, 0)
	if e != 0 {
		t.Fatal(e)
	}
	defer d.Close()
	names := func() []string {
		ds, e := d.Readdir(-1)
		if e != 0 {
			t.Fatal(e)
		}
		var ns []string
		for _, x := range ds {
			if x.Ino == 0 {
				t.Errorf("%s has no inode", x.Name)
			}
			ns = append(ns, x.Name)
		}
		sort.Strings(ns)
		return ns
	}
	first := names()
	if _, e := d.Seek(0, io.SeekStart); e != 0 {
		t.Fatalf("rewind: %v", e)
	}
	os.WriteFile(filepath.Join(root, "new.txt"), nil, 0o644)
	if again := names(); len(again) != len(first)+1 {
		t.Errorf("after a rewind: %v, before %v", again, first)
	}
	if _, e := d.Write([]byte("x")); e != experimentalsys.EISDIR && e != experimentalsys.EBADF {
		t.Errorf("write to a directory: %v", e)
	}
	if e := fsys.Unlink("dir"); e != experimentalsys.EISDIR {
		t.Errorf("unlink a directory: %v", e)
	}
	if e := fsys.Rmdir("a.txt"); e != experimentalsys.ENOTDIR {
		t.Errorf("rmdir a file: %v", e)
	}
	if e := fsys.Mkdir("missing/x", 0o755); e != experimentalsys.ENOENT {
		t.Errorf("mkdir under a missing directory: %v", e)
	}
	if _, e := fsys.OpenFile("missing", experimentalsys.O_RDONLY, 0); e != experimentalsys.ENOENT {
		t.Errorf("open missing: %v", e)
	}
}
