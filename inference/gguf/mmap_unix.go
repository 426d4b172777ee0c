//go:build unix

package gguf

import (
	"os"
	"syscall"
)

func mmapFile(fh *os.File, size int, populate bool) ([]byte, func() error, error) {
	flags := syscall.MAP_SHARED
	if populate {
		flags |= mapPopulate
	}
	b, err := syscall.Mmap(int(fh.Fd()), 0, size, syscall.PROT_READ, flags)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return syscall.Munmap(b) }, nil
}
