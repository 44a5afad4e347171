//go:build unix

package wasm

import (
	"os"
	"syscall"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// sysFlag maps the WASI open flags that have no os.O_* constant.
func sysFlag(flag experimentalsys.Oflag) int {
	var f int
	if flag&experimentalsys.O_DIRECTORY != 0 {
		f |= syscall.O_DIRECTORY
	}
	if flag&experimentalsys.O_DSYNC != 0 {
		f |= syscall.O_DSYNC
	}
	if flag&experimentalsys.O_NONBLOCK != 0 {
		f |= syscall.O_NONBLOCK
	}
	return f
}

// setNonblock sets the descriptor's O_NONBLOCK.
func setNonblock(f *os.File, enable bool) experimentalsys.Errno {
	rc, err := f.SyscallConn()
	if err != nil {
		return errno(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), enable) }); err != nil {
		return errno(err)
	}
	return errno(serr)
}
