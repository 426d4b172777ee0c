package index

import (
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/ctxfs/ctxfs/fs"
)

// analyzers are the analyzers of the mapping, resolved once: documents are
// built directly (Batch.IndexAdvanced) rather than through the mapping's
// reflection walk, which costs more than the analysis of a small file.
type analyzers struct {
	path, keyword, text analysis.Analyzer
}

func newAnalyzers(m mapping.IndexMapping) analyzers {
	return analyzers{
		path:    m.AnalyzerNamed(pathAnalyzer),
		keyword: m.AnalyzerNamed(keyword.Name),
		text:    m.AnalyzerNamed(standard.Name),
	}
}

// Keywords keep term vectors too: a quoted value (under:"/a b/c.md") is a
// phrase query, which bleve answers only from term vectors even for one term.
const (
	optText    = bindex.IndexField | bindex.IncludeTermVectors
	optKeyword = bindex.IndexField | bindex.IncludeTermVectors
)

// textContent returns the part of b that is indexed as text: b cut to max
// bytes at a rune boundary, or nil when b is not UTF-8 text (binary files
// keep their path and metadata searchable).
func textContent(b []byte, max int) []byte {
	if len(b) > max {
		b = b[:max]
		// Back up over a rune the cut split; at most UTFMax-1 bytes.
		for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
			if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size != 1 {
				break
			}
			b = b[:len(b)-1]
		}
	}
	if !utf8.Valid(b) {
		return nil
	}
	for _, c := range b {
		if c == 0 {
			return nil // NUL: binary that happens to be valid UTF-8
		}
	}
	return b
}

// build returns the bleve document of info with the (already cut) text
// content.
func (a *analyzers) build(info *fs.Info, content []byte) *document.Document {
	p := string(info.Path)
	d := document.NewDocument(p)
	d.AddField(document.NewTextFieldCustom(FieldPath, nil, []byte(p), optText, a.path))
	// The path and its ancestors as keywords: Under is one term query.
	for q := info.Path; !q.IsRoot(); q = q.Dir() {
		d.AddField(document.NewTextFieldCustom(FieldUnder, nil, []byte(q), optKeyword, a.keyword))
	}
	d.AddField(document.NewTextFieldCustom(FieldKind, nil, []byte(info.Kind.String()), bindex.IndexField, a.keyword))
	if info.Author != "" {
		d.AddField(document.NewTextFieldCustom(FieldAuthor, nil, []byte(info.Author), optKeyword, a.keyword))
	}
	d.AddField(document.NewNumericFieldWithIndexingOptions(FieldVersion, nil, float64(info.Version), bindex.IndexField))
	if !info.Modified.IsZero() {
		if f, err := document.NewDateTimeFieldWithIndexingOptions(FieldModified, nil, info.Modified, time.RFC3339, bindex.IndexField); err == nil {
			d.AddField(f)
		}
	}
	for k, v := range info.Meta {
		d.AddField(document.NewTextFieldCustom(FieldMeta+"."+k, nil, []byte(v), optText, a.text))
	}
	if len(content) > 0 {
		d.AddField(document.NewTextFieldCustom(FieldContent, nil, content, optText, a.text))
	}
	d.AddField(document.NewCompositeFieldWithIndexingOptions(fieldAll, true, nil,
		[]string{FieldUnder, FieldKind, FieldAuthor, FieldVersion, FieldModified}, optText))
	return d
}
