//go:build !unix

package gguf

import "os"

// mmapFile falls back to reading the file where mmap is not available.
func mmapFile(fh *os.File, size int, _ bool) ([]byte, func() error, error) {
	b := make([]byte, size)
	if _, err := fh.ReadAt(b, 0); err != nil {
		return nil, nil, err
	}
	return b, nil, nil
}
