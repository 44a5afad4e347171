//go:build !unix

package wasm

import (
	"os"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// sysFlag maps the WASI open flags that have no os.O_* constant: none
// here.
func sysFlag(flag experimentalsys.Oflag) int { return 0 }

// setNonblock is not supported off Unix.
func setNonblock(f *os.File, enable bool) experimentalsys.Errno {
	if enable {
		return experimentalsys.ENOSYS
	}
	return 0
}
