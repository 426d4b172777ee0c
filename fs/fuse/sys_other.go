//go:build !linux

package fuse

import "syscall"

// errNoAttr is the errno of a missing extended attribute.
const errNoAttr = syscall.ENOATTR

// detach unmounts dir; systems without lazy unmounts force it.
func detach(dir string) error { return syscall.Unmount(dir, 0) }
