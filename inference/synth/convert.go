package synth

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/quant"
)

// Convert writes src with its 2-D F32/F16 weights converted to type t, keeping all
// metadata. Matrices whose rows are not a multiple of t's block (32 elements, 256 for
// K-quants; stories260K's 172-wide feed-forward) and 1-D tensors keep their type, as llama.cpp's quantizer
// does with tensors it cannot quantize. Only F32 and F16 sources are accepted.
func Convert(w io.Writer, src *gguf.File, t gguf.Type) (int64, error) {
	gw := gguf.NewWriter()
	for _, kv := range src.KVs() {
		if kv.Key == "general.file_type" {
			continue
		}
		if err := gw.Set(kv.Key, kv.Value); err != nil {
			return 0, err
		}
	}
	if err := gw.Set("general.file_type", fileType(t)); err != nil {
		return 0, err
	}
	var specs []tensorSpec
	for _, ti := range src.Tensors() {
		if ti.Type != gguf.TypeF32 && ti.Type != gguf.TypeF16 {
			return 0, fmt.Errorf("synth: convert: tensor %s is %v, want F32 or F16", ti.Name, ti.Type)
		}
		cols := int(ti.Dims[0])
		rows := int(ti.Elements()) / max(cols, 1)
		typ := ti.Type
		if len(ti.Dims) == 2 && cols%t.BlockSize() == 0 {
			typ = t
		}
		data, srcType := ti.Data(), ti.Type
		specs = append(specs, tensorSpec{name: ti.Name, typ: typ, rows: rows, cols: cols, vector: len(ti.Dims) == 1,
			fill: func(r int, dst []float32) {
				if srcType == gguf.TypeF16 {
					quant.DequantizeF16(dst, data[2*r*cols:])
					return
				}
				for i := range dst {
					dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*(r*cols+i):]))
				}
			}})
		if len(ti.Dims) > 2 {
			return 0, fmt.Errorf("synth: convert: tensor %s has %d dimensions", ti.Name, len(ti.Dims))
		}
	}
	// The metadata copy includes general.alignment when src sets it.
	return writeStreaming(w, gw, specs, src.Alignment())
}

// ConvertFile converts the model at src into a new file at dst.
func ConvertFile(dst string, src *gguf.File, t gguf.Type) (int64, error) {
	return writeFileWith(dst, func(w io.Writer) (int64, error) { return Convert(w, src, t) })
}
