package fuse

import (
	"testing"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/fstest"
	"github.com/ctxfs/ctxfs/mounts/hostdir"
)

// TestConformance runs the fs conformance suite against the mount: each
// subtest mounts a fresh store and reaches the mount point through a
// read-write host directory provider, so every call of the suite becomes
// system calls on the mount. Versions, metadata, authors and watching are
// what the host directory provider cannot see through a POSIX directory,
// so those parts are off (they are tested on the mount directly in
// TestPOSIX, TestXattrs and TestOtherDoors).
func TestConformance(t *testing.T) {
	requireFUSE(t)
	fstest.Run(t, func(tb testing.TB) fs.FS {
		_, mnt := mountStore(tb, Options{})
		h, err := hostdir.New(mnt, hostdir.Options{Writable: true})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { h.Close() })
		return h
	}, fstest.Options{
		NoVersions: true, NoMeta: true, NoAuthor: true, NoWatch: true,
		Skip: map[string]string{
			"WriteOptions/Create": "the host directory provider creates exclusively with link(2), and the store has no hard links",
		},
	})
}
