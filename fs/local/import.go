package local

import (
	"bytes"
	"context"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"time"

	"github.com/ctxfs/ctxfs/fs"
	"github.com/ctxfs/ctxfs/fs/index"
	"github.com/ctxfs/ctxfs/fs/store"
)

// ImportOptions refine Import. The zero value gives the defaults.
type ImportOptions struct {
	// BatchFiles and BatchBytes bound one store transaction. Zero means
	// 512 files and 32 MiB.
	BatchFiles int
	BatchBytes int64
	// Progress, if not nil, is called after each committed batch.
	Progress func(ImportProgress)
	// NoIndex leaves indexing to the next search (the index catches up
	// from the change log) instead of indexing at the end of the import.
	NoIndex bool
}

// ImportProgress reports how far an import is.
type ImportProgress struct {
	Files, TotalFiles int
	Bytes, TotalBytes int64
}

// ImportStats summarizes an import.
type ImportStats struct {
	Files    int           `json:"files"`
	Dirs     int           `json:"dirs"`
	Bytes    int64         `json:"bytes"`
	Skipped  []Skipped     `json:"skipped"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
}

// Skipped is a host entry Import did not copy, and why.
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

type importFile struct {
	rel  string
	dest fs.Path
	size int64
}

// Import copies the regular files below host directory src into the store
// under dest, creating directories as needed. The host directory is read
// only through os.Root, so symbolic links cannot lead outside it. Files go
// in batches, each one store transaction: an interrupted import leaves
// whole batches, never a partial file. Entries whose names are not valid
// ctxfs names, and anything but regular files and directories, are skipped
// and reported.
func (s *System) Import(ctx context.Context, src string, dest fs.Path, opts ImportOptions) (*ImportStats, error) {
	start := time.Now()
	if opts.BatchFiles <= 0 {
		opts.BatchFiles = 512
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = 32 << 20
	}
	root, err := os.OpenRoot(src)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer root.Close()
	stats := &ImportStats{Skipped: []Skipped{}}
	var files []importFile
	var dirs []fs.Path
	var total int64
	hfs := root.FS()
	err = iofs.WalkDir(hfs, ".", func(name string, d iofs.DirEntry, err error) error {
		if err != nil {
			stats.Skipped = append(stats.Skipped, Skipped{name, err.Error()})
			if d != nil && d.IsDir() {
				return iofs.SkipDir
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		p := dest
		if name != "." {
			rel, perr := fs.Parse("/" + name)
			if perr != nil {
				stats.Skipped = append(stats.Skipped, Skipped{name, perr.Error()})
				if d.IsDir() {
					return iofs.SkipDir
				}
				return nil
			}
			p = rel.Under(dest)
		}
		switch {
		case d.IsDir():
			dirs = append(dirs, p)
		case d.Type().IsRegular() || d.Type()&iofs.ModeSymlink != 0:
			fi, err := iofs.Stat(hfs, name) // follows links, within the root only
			if err != nil {
				stats.Skipped = append(stats.Skipped, Skipped{name, err.Error()})
				return nil
			}
			if !fi.Mode().IsRegular() {
				stats.Skipped = append(stats.Skipped, Skipped{name, "not a regular file"})
				return nil
			}
			files = append(files, importFile{rel: name, dest: p, size: fi.Size()})
			total += fi.Size()
		default:
			stats.Skipped = append(stats.Skipped, Skipped{name, "not a regular file"})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	// Directories first (empty ones included), in one transaction.
	if err := s.Store.Batch(ctx, func(b *store.Batch) error {
		for _, d := range dirs {
			if err := b.Mkdir(d); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	stats.Dirs = len(dirs)
	var idx *index.Index
	if !opts.NoIndex {
		if idx, err = s.Index(ctx); err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
	}
	for i := 0; i < len(files); {
		j := i
		var size int64
		for j < len(files) && j-i < opts.BatchFiles && (j == i || size+files[j].size <= opts.BatchBytes) {
			size += files[j].size
			j++
		}
		batch := files[i:j]
		docs := make([]index.Doc, 0, len(batch))
		err := s.Store.Batch(ctx, func(b *store.Batch) error {
			docs = docs[:0]
			for _, f := range batch {
				content, err := iofs.ReadFile(hfs, f.rel)
				if err != nil {
					return fmt.Errorf("%s: %w", f.rel, err)
				}
				info, err := b.Write(f.dest, bytes.NewReader(content), fs.WriteOptions{Meta: map[string]string{"source": path.Join(src, f.rel)}})
				if err != nil {
					return err
				}
				docs = append(docs, index.Doc{Info: info, Content: content})
			}
			return nil
		})
		if err != nil {
			return stats, fmt.Errorf("import: %w", err)
		}
		// The index gets the content while it is in memory; the log
		// catch-up at the end then skips reading these files back.
		if idx != nil {
			if err := idx.IndexBatch(ctx, docs); err != nil {
				return stats, fmt.Errorf("import: indexing: %w", err)
			}
		}
		stats.Files += len(batch)
		stats.Bytes += size
		if opts.Progress != nil {
			opts.Progress(ImportProgress{Files: stats.Files, TotalFiles: len(files), Bytes: stats.Bytes, TotalBytes: total})
		}
		i = j
	}
	if idx != nil {
		if err := idx.CatchUp(ctx); err != nil {
			return stats, fmt.Errorf("import: indexing: %w", err)
		}
	}
	stats.Duration = time.Since(start)
	stats.Seconds = stats.Duration.Seconds()
	return stats, nil
}
