package index

import (
	"context"
	"errors"
	"fmt"

	"github.com/ctxfs/ctxfs/fs"
)

// maxImported bounds the memory of IndexBatch's skip list.
const maxImported = 1 << 20

// Doc is a file or directory with its content, for IndexBatch.
type Doc struct {
	Info    *fs.Info // as the source returned it for the write
	Content []byte   // the whole content of that version; nil for a directory
}

// IndexBatch indexes docs, whose content the caller (an importer) already
// holds, without reading it back from the source. A document is indexed
// only if its version is still the source's current one (a newer version
// is the log's business). The applied sequence does not move: the next
// CatchUp still goes over the import's log events, but skips reading the
// files indexed here whose version and modification time are unchanged.
//
// IndexBatch does not keep docs or their content after it returns.
func (x *Index) IndexBatch(ctx context.Context, docs []Doc) error {
	x.writeMu.Lock()
	defer x.writeMu.Unlock()
	idx, release, err := x.bleveIndex()
	if err != nil {
		return err
	}
	defer release()
	w := x.newWriter(idx)
	for _, d := range docs {
		if err := ctx.Err(); err != nil {
			return err
		}
		info := d.Info
		if info == nil || info.Path == "" || info.Path.IsRoot() {
			return fmt.Errorf("index batch: %w: a document without a path", fs.ErrInvalid)
		}
		cur, err := x.src.Stat(ctx, info.Path)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrNotDir) {
			continue
		}
		if err != nil {
			return fmt.Errorf("index %s: %w", x.dir, err)
		}
		if cur.Kind != info.Kind || cur.Version != info.Version || !cur.Modified.Equal(info.Modified) {
			continue // replaced meanwhile: CatchUp indexes the newer state
		}
		var content []byte
		if info.Kind == fs.KindFile {
			content = textContent(d.Content, x.opts.MaxContentBytes)
		}
		if err := w.index(x.an.build(info, content), len(content)); err != nil {
			return err
		}
		if len(x.imported) >= maxImported {
			// Entries whose events CatchUp already passed are never
			// consumed; forgetting all costs only re-reads.
			clear(x.imported)
		}
		x.imported[info.Path] = stampOf(info)
	}
	return w.flush()
}
