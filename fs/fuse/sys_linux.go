package fuse

import "syscall"

// errNoAttr is the errno of a missing extended attribute.
const errNoAttr = syscall.ENODATA

// detach unmounts dir lazily: it leaves the namespace at once and goes
// when nothing uses it any more.
func detach(dir string) error { return syscall.Unmount(dir, syscall.MNT_DETACH) }
