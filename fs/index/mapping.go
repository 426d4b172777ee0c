package index

import (
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/regexp"
	"github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"
)

// Field names of the documents. They are also the names a query string uses
// (path:notes, meta.lang:go, kind:dir).
const (
	FieldPath     = "path"     // the path's words (letters and digits), lowercased
	FieldUnder    = "under"    // keyword: the path itself and each ancestor directory
	FieldContent  = "content"  // UTF-8 text content, standard analyzer
	FieldMeta     = "meta"     // meta.KEY: user metadata values, standard analyzer
	FieldKind     = "kind"     // keyword: file or dir
	FieldAuthor   = "author"   // keyword: principal that wrote the version
	FieldVersion  = "version"  // number
	FieldModified = "modified" // date and time of the version
	fieldAll      = "_all"     // composite of path, content and meta: the default field
)

// pathAnalyzer splits a path into its words, so that path:notes and path:md
// match /notes/todo.md. The standard analyzer would keep "todo.md" as one
// token, because UAX#29 does not break words at a full stop between letters.
const pathAnalyzer = "ctxfs_path"

// formatVersion identifies the document layout. An index written with
// another value is rebuilt on Open.
const formatVersion = "ctxfs-index-2"

// Mapping returns the index mapping of ctxfs documents: BM25 scoring, the
// standard analyzer by default, the fields listed above. Benchmarks that
// compare against plain bleve use it so both sides analyze and score alike.
func Mapping() *mapping.IndexMappingImpl {
	im := bleve.NewIndexMapping()
	im.ScoringModel = bindex.BM25Scoring
	im.DefaultAnalyzer = standard.Name
	im.DefaultField = fieldAll
	if err := im.AddCustomTokenizer(pathAnalyzer+"_tokenizer", map[string]any{
		"type":   regexp.Name,
		"regexp": `[\p{L}\p{N}]+`,
	}); err != nil {
		panic(err) // a constant configuration: fails only if bleve changes
	}
	if err := im.AddCustomAnalyzer(pathAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     pathAnalyzer + "_tokenizer",
		"token_filters": []string{lowercase.Name},
	}); err != nil {
		panic(err)
	}

	doc := bleve.NewDocumentStaticMapping()
	text := func(analyzer string, vectors bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeTermVectors = vectors
		f.DocValues = false
		return f
	}
	doc.AddFieldMappingsAt(FieldPath, text(pathAnalyzer, true))
	kw := func() *mapping.FieldMapping {
		f := text(keyword.Name, true)
		f.IncludeInAll = false
		return f
	}
	doc.AddFieldMappingsAt(FieldUnder, kw())
	doc.AddFieldMappingsAt(FieldKind, kw())
	doc.AddFieldMappingsAt(FieldAuthor, kw())
	doc.AddFieldMappingsAt(FieldContent, text(standard.Name, true))
	ver := bleve.NewNumericFieldMapping()
	ver.Store = false
	ver.IncludeInAll = false
	ver.DocValues = false
	doc.AddFieldMappingsAt(FieldVersion, ver)
	mod := bleve.NewDateTimeFieldMapping()
	mod.Store = false
	mod.IncludeInAll = false
	mod.DocValues = false
	doc.AddFieldMappingsAt(FieldModified, mod)
	meta := bleve.NewDocumentMapping() // dynamic: any key, default analyzer
	meta.DefaultAnalyzer = standard.Name
	doc.AddSubDocumentMapping(FieldMeta, meta)
	im.DefaultMapping = doc
	im.StoreDynamic = false
	im.DocValuesDynamic = false
	return im
}
