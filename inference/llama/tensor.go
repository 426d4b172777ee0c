package llama

import (
	"fmt"

	"github.com/ctxfs/ctxfs/inference/gguf"
	"github.com/ctxfs/ctxfs/inference/quant"
)

// Matrix is a row-major weight matrix in one of the supported GGML formats. Data aliases
// the model file (memory-mapped or in memory) and is never written, so a Matrix is safe
// for concurrent use.
type Matrix struct {
	Name       string
	Type       gguf.Type
	Rows, Cols int
	Data       []byte
	rowBytes   int
	f32        []float32 // Data viewed as float32 when Type is F32
}

// supported reports whether the engine has kernels for a weight type.
func supported(t gguf.Type) bool {
	switch t {
	case gguf.TypeF32, gguf.TypeF16, gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_K, gguf.TypeQ6_K:
		return true
	}
	return false
}

func newMatrix(name string, t gguf.Type, rows, cols int, data []byte) (*Matrix, error) {
	if !supported(t) {
		return nil, fmt.Errorf("llama: tensor %s has type %v: %w", name, t, ErrUnsupported)
	}
	rb := rowBytes(t, cols)
	if rb < 0 || len(data) != rb*rows {
		return nil, fmt.Errorf("llama: tensor %s: %d bytes for %dx%d %v: %w", name, len(data), rows, cols, t, ErrBadModel)
	}
	m := &Matrix{Name: name, Type: t, Rows: rows, Cols: cols, Data: data, rowBytes: rb}
	if t == gguf.TypeF32 {
		if !aligned4(data) {
			return nil, fmt.Errorf("llama: tensor %s is not 4-byte aligned: %w", name, ErrBadModel)
		}
		m.f32 = f32s(data)
	}
	return m, nil
}

func rowBytes(t gguf.Type, cols int) int {
	switch t {
	case gguf.TypeF32:
		return 4 * cols
	case gguf.TypeF16:
		return 2 * cols
	case gguf.TypeQ8_0:
		if cols%quant.BlockLen != 0 {
			return -1
		}
		return quant.RowBytesQ8_0(cols)
	case gguf.TypeQ4_0:
		if cols%quant.BlockLen != 0 {
			return -1
		}
		return quant.RowBytesQ4_0(cols)
	case gguf.TypeQ4_K, gguf.TypeQ6_K:
		if cols%quant.KBlockLen != 0 {
			return -1
		}
		if t == gguf.TypeQ4_K {
			return quant.RowBytesQ4_K(cols)
		}
		return quant.RowBytesQ6_K(cols)
	}
	return -1
}

// Row returns row r's bytes.
func (m *Matrix) Row(r int) []byte { return m.Data[r*m.rowBytes : (r+1)*m.rowBytes] }

// Bytes returns the size of the weights, which is what one matrix-vector product reads.
func (m *Matrix) Bytes() int64 { return int64(len(m.Data)) }

// quantizedInput reports whether products with m take Q8_0 activations.
func (m *Matrix) quantizedInput() bool { return m.Type != gguf.TypeF32 && m.Type != gguf.TypeF16 }

// DequantizeRow writes row r as float32 into dst (m.Cols long).
func (m *Matrix) DequantizeRow(dst []float32, r int) {
	row := m.Row(r)
	switch m.Type {
	case gguf.TypeF32:
		copy(dst[:m.Cols], m.f32[r*m.Cols:(r+1)*m.Cols])
	case gguf.TypeF16:
		quant.DequantizeF16(dst[:m.Cols], row)
	case gguf.TypeQ8_0:
		quant.DequantizeQ8_0(dst[:m.Cols], row)
	case gguf.TypeQ4_0:
		quant.DequantizeQ4_0(dst[:m.Cols], row)
	case gguf.TypeQ4_K:
		quant.DequantizeQ4_K(dst[:m.Cols], row)
	case gguf.TypeQ6_K:
		quant.DequantizeQ6_K(dst[:m.Cols], row)
	}
}

// f32s reinterprets little-endian float32 bytes without copying. The engine only runs on
// little-endian machines (checked at load).
func f32s(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	return unsafeF32s(b)
}
