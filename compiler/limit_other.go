//go:build !linux

package compiler

import "os"

// limitData does nothing where RLIMIT_DATA does not count the Go heap (it
// counts only the data segment elsewhere): the worker's heap watchdog is
// the bound there.
func limitData(max int64) error { return nil }

// pollable returns f.
func pollable(f *os.File) *os.File { return f }
