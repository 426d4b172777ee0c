package inference

import (
	"fmt"
	"sort"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/llama"
	"github.com/ctxfs/ctxfs/inference/tokenizer"
)

// ModelInfo describes a GGUF model file: what `ctxfs model info` prints.
type ModelInfo struct {
	Path         string         `json:"path"`
	Name         string         `json:"name,omitempty"`
	Arch         string         `json:"arch"`
	GGUFVersion  uint32         `json:"gguf_version"`
	FileBytes    int64          `json:"file_bytes"`
	Tensors      int            `json:"tensors"`
	Parameters   uint64         `json:"parameters"`
	TensorTypes  map[string]int `json:"tensor_types"`
	Config       *llama.Config  `json:"config,omitempty"`
	ConfigError  string         `json:"config_error,omitempty"`
	Tokenizer    string         `json:"tokenizer,omitempty"`
	VocabSize    int            `json:"vocab_size,omitempty"`
	BOS          int32          `json:"bos"`
	EOS          int32          `json:"eos"`
	ChatTemplate string         `json:"chat_template"`
	Supported    bool           `json:"supported"` // the local engine can run it
}

// Inspect reads a model's metadata without loading its weights into memory.
func Inspect(path string) (*ModelInfo, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info := &ModelInfo{Path: path, Arch: f.Arch(), GGUFVersion: f.Version(), FileBytes: f.Size(),
		TensorTypes: map[string]int{}, BOS: -1, EOS: -1}
	info.Name, _ = f.String("general.name")
	for _, t := range f.Tensors() {
		info.Tensors++
		info.Parameters += t.Elements()
		info.TensorTypes[t.Type.String()]++
	}
	if m, err := llama.Load(f); err != nil {
		info.ConfigError = err.Error()
	} else {
		info.Config = &m.Config
		info.Supported = true
	}
	info.Tokenizer, _ = f.String("tokenizer.ggml.model")
	if tok, err := tokenizer.FromGGUF(f); err == nil {
		info.VocabSize, info.BOS, info.EOS = tok.VocabSize(), tok.BOS(), tok.EOS()
	} else if info.Tokenizer != "" {
		info.Supported = false
		info.ConfigError = fmt.Sprintf("%s; %v", info.ConfigError, err)
	}
	tpl, _ := f.String("tokenizer.chat_template")
	info.ChatTemplate = TemplateFor(tpl, info.Arch).Name
	return info, nil
}

// SortedTypes returns the tensor type counts as "TYPE×N" strings, most common first.
func (i *ModelInfo) SortedTypes() []string {
	type tc struct {
		t string
		n int
	}
	var l []tc
	for t, n := range i.TensorTypes {
		l = append(l, tc{t, n})
	}
	sort.Slice(l, func(a, b int) bool { return l[a].n > l[b].n || (l[a].n == l[b].n && l[a].t < l[b].t) })
	out := make([]string, len(l))
	for k, x := range l {
		out[k] = fmt.Sprintf("%s×%d", x.t, x.n)
	}
	return out
}
