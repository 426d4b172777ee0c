package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Writer builds a GGUF file: metadata in the order first set, then tensor
// infos and tensor data in the order added, each tensor's data aligned to
// the file's alignment (general.alignment if set, else DefaultAlignment).
//
// A Writer is not safe for concurrent use. Tensor data passed to AddTensor
// is retained, not copied, until WriteTo returns.
type Writer struct {
	// Version is the GGUF version written: 2 or 3 (the default, 0, means 3).
	Version uint32

	kvs     []KV
	kvIndex map[string]int
	tensors []writerTensor
	tIndex  map[string]bool
}

type writerTensor struct {
	name string
	typ  Type
	dims []uint64
	data []byte
}

// NewWriter returns an empty Writer.
func NewWriter() *Writer {
	return &Writer{kvIndex: map[string]int{}, tIndex: map[string]bool{}}
}

// Set sets a metadata key. v must be one of the Go types listed for KV:
// uint8, int8, uint16, int16, uint32, int32, float32, bool, string, uint64,
// int64, float64, a slice of one of those, []Array, or Array. Setting a key
// again replaces its value in place.
func (w *Writer) Set(key string, v any) error {
	if err := checkValue(v, 0); err != nil {
		return fmt.Errorf("gguf: metadata %q: %w", key, err)
	}
	if key == "general.alignment" {
		a, ok := v.(uint32)
		if !ok || a == 0 || a&(a-1) != 0 {
			return fmt.Errorf("gguf: general.alignment must be a uint32 power of two, got %T %v: %w", v, v, ErrUnsupported)
		}
	}
	if i, ok := w.kvIndex[key]; ok {
		w.kvs[i].Value = v
		return nil
	}
	w.kvIndex[key] = len(w.kvs)
	w.kvs = append(w.kvs, KV{Key: key, Value: v})
	return nil
}

func checkValue(v any, depth int) error {
	if depth >= maxArrayDepth {
		return fmt.Errorf("arrays nested deeper than %d: %w", maxArrayDepth, ErrUnsupported)
	}
	_, elem, ok := typeOf(v)
	if !ok {
		return fmt.Errorf("value of Go type %T: %w", v, ErrUnsupported)
	}
	if a, ok := v.(Array); ok {
		v = a.Values
	}
	if elem == ArrayT {
		for _, a := range v.([]Array) {
			if err := checkValue(a, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// AddTensor adds a tensor of the given type and dimensions (fastest-varying
// first). len(data) must be exactly the tensor's size.
func (w *Writer) AddTensor(name string, typ Type, dims []uint64, data []byte) error {
	if w.tIndex[name] {
		return fmt.Errorf("gguf: duplicate tensor %q: %w", name, ErrCorrupt)
	}
	if len(dims) > maxDims {
		return fmt.Errorf("gguf: tensor %q has %d dimensions, at most %d allowed: %w", name, len(dims), maxDims, ErrUnsupported)
	}
	n := uint64(1)
	for _, d := range dims {
		n *= d
	}
	if len(dims) > 0 && typ.Known() && dims[0]%uint64(typ.BlockSize()) != 0 {
		return fmt.Errorf("gguf: tensor %q row of %d elements is not a multiple of the %v block size: %w", name, dims[0], typ, ErrCorrupt)
	}
	size, err := typ.RowSize(n)
	if err != nil {
		return fmt.Errorf("%w (tensor %q)", err, name)
	}
	if uint64(len(data)) != size {
		return fmt.Errorf("gguf: tensor %q of %v %v needs %d bytes, got %d: %w", name, typ, dims, size, len(data), ErrCorrupt)
	}
	w.tIndex[name] = true
	w.tensors = append(w.tensors, writerTensor{name, typ, append([]uint64(nil), dims...), data})
	return nil
}

func (w *Writer) alignment() uint64 {
	if i, ok := w.kvIndex["general.alignment"]; ok {
		return uint64(w.kvs[i].Value.(uint32))
	}
	return DefaultAlignment
}

// WriteTo writes the file to out.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	version := w.Version
	if version == 0 {
		version = 3
	}
	if version != 2 && version != 3 {
		return 0, fmt.Errorf("gguf: cannot write version %d: %w", version, ErrUnsupported)
	}
	cw := &countWriter{w: bufio.NewWriterSize(out, 1<<16)}
	e := &encoder{w: cw}
	e.raw([]byte(Magic))
	e.u32(version)
	e.u64(uint64(len(w.tensors)))
	e.u64(uint64(len(w.kvs)))
	for _, kv := range w.kvs {
		e.str(kv.Key)
		t, _, _ := typeOf(kv.Value)
		e.u32(uint32(t))
		e.value(kv.Value)
	}
	align := w.alignment()
	var off uint64
	for _, t := range w.tensors {
		e.str(t.name)
		e.u32(uint32(len(t.dims)))
		for _, d := range t.dims {
			e.u64(d)
		}
		e.u32(uint32(t.typ))
		e.u64(off)
		off = pad(off+uint64(len(t.data)), align)
	}
	e.raw(make([]byte, pad(uint64(cw.n), align)-uint64(cw.n)))
	for _, t := range w.tensors {
		e.raw(t.data)
		n := uint64(len(t.data))
		e.raw(make([]byte, pad(n, align)-n))
	}
	if e.err != nil {
		return cw.n, e.err
	}
	return cw.n, cw.w.Flush()
}

func pad(n, align uint64) uint64 { return (n + align - 1) / align * align }

type countWriter struct {
	w *bufio.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// encoder writes little-endian values, remembering the first error.
type encoder struct {
	w   io.Writer
	buf [8]byte
	err error
}

func (e *encoder) raw(b []byte) {
	if e.err == nil && len(b) > 0 {
		_, e.err = e.w.Write(b)
	}
}
func (e *encoder) u8(v uint8) { e.buf[0] = v; e.raw(e.buf[:1]) }
func (e *encoder) u16(v uint16) {
	binary.LittleEndian.PutUint16(e.buf[:], v)
	e.raw(e.buf[:2])
}
func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:], v)
	e.raw(e.buf[:4])
}
func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:], v)
	e.raw(e.buf[:8])
}
func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	if e.err == nil && len(s) > 0 {
		_, e.err = io.WriteString(e.w, s)
	}
}

func (e *encoder) value(v any) {
	switch v := v.(type) {
	case uint8:
		e.u8(v)
	case int8:
		e.u8(uint8(v))
	case uint16:
		e.u16(v)
	case int16:
		e.u16(uint16(v))
	case uint32:
		e.u32(v)
	case int32:
		e.u32(uint32(v))
	case float32:
		e.u32(math.Float32bits(v))
	case bool:
		if v {
			e.u8(1)
		} else {
			e.u8(0)
		}
	case string:
		e.str(v)
	case uint64:
		e.u64(v)
	case int64:
		e.u64(uint64(v))
	case float64:
		e.u64(math.Float64bits(v))
	case Array:
		e.value(v.Values)
	default:
		// A typed slice or []Array: element type, count, elements.
		_, elem, _ := typeOf(v)
		e.u32(uint32(elem))
		switch s := v.(type) {
		case []uint8:
			e.u64(uint64(len(s)))
			e.raw(s)
		case []int8:
			arrayOf(e, s)
		case []uint16:
			arrayOf(e, s)
		case []int16:
			arrayOf(e, s)
		case []uint32:
			arrayOf(e, s)
		case []int32:
			arrayOf(e, s)
		case []float32:
			arrayOf(e, s)
		case []bool:
			arrayOf(e, s)
		case []string:
			arrayOf(e, s)
		case []uint64:
			arrayOf(e, s)
		case []int64:
			arrayOf(e, s)
		case []float64:
			arrayOf(e, s)
		case []Array:
			e.u64(uint64(len(s)))
			for _, a := range s {
				e.value(a.Values)
			}
		}
	}
}

func arrayOf[T any](e *encoder, s []T) {
	e.u64(uint64(len(s)))
	for _, x := range s {
		e.value(x)
	}
}
