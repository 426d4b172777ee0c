package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"slices"
	"sync/atomic"
)

// Sentinel errors. Every error returned by this package wraps one of them
// (or an *os.PathError / syscall error from the operating system).
var (
	// ErrCorrupt means the file is not a well-formed GGUF file: a bad
	// magic, an offset, count or size that does not fit in the file, a
	// duplicate key, and so on.
	ErrCorrupt = errors.New("gguf: corrupt file")
	// ErrUnsupported means the file is well-formed as far as it was read
	// but uses something this package does not handle (a GGUF version
	// other than 2 or 3, a big-endian file, an unknown tensor type).
	ErrUnsupported = errors.New("gguf: unsupported")
	// ErrClosed is returned by operations on a closed File.
	ErrClosed = errors.New("gguf: file closed")
)

// Magic is the four bytes that start every GGUF file.
const Magic = "GGUF"

// DefaultAlignment is the tensor data alignment used when the file does
// not set general.alignment.
const DefaultAlignment = 32

const (
	maxDims       = 4  // GGML_MAX_DIMS
	maxArrayDepth = 16 // nesting limit for arrays of arrays
	maxAlignment  = 1 << 30
)

// Options configures how a file is opened. The zero value memory-maps the
// file read-only.
type Options struct {
	// InMemory reads the whole file into RAM instead of mapping it, so
	// that tensor data cannot be evicted from the page cache behind the
	// caller's back (useful for benchmarks on machines that drop page
	// cache aggressively).
	InMemory bool
	// Populate asks the kernel to fault in the whole mapping at open
	// (MAP_POPULATE) so that first use does not pay for page faults.
	// Ignored with InMemory.
	Populate bool
}

// File is an opened GGUF file: its metadata, tensor infos and tensor data.
//
// A File is safe for concurrent use by multiple goroutines, except that
// Close must not run concurrently with other methods, and nothing returned
// by TensorInfo.Data may be used after Close.
type File struct {
	data   []byte       // the whole file, mapped or in memory
	unmap  func() error // releases data; nil for in-memory buffers
	closed atomic.Bool

	version    uint32
	kvs        []KV
	kvIndex    map[string]int
	tensors    []TensorInfo
	tIndex     map[string]int
	alignment  uint64
	dataOffset uint64
}

// TensorInfo describes one tensor. Its fields must be treated as read-only.
type TensorInfo struct {
	Name string
	Type Type
	// Dims are the tensor's dimensions, fastest-varying first (GGML's
	// ne[0], ne[1], ...).
	Dims []uint64
	// Offset is the byte offset of the tensor's data from the start of the
	// data section (File.DataOffset).
	Offset uint64
	// Size is the size in bytes of the tensor's data.
	Size uint64

	f *File
}

// Elements returns the number of elements of the tensor.
func (t *TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d // overflow is ruled out when the file is parsed
	}
	return n
}

// Data returns the tensor's bytes. The slice aliases the file mapping (or
// in-memory buffer): it must not be modified and must not be used after
// the File is closed. It returns nil once the file is closed.
func (t *TensorInfo) Data() []byte {
	if t.f == nil || t.f.closed.Load() {
		return nil
	}
	start := t.f.dataOffset + t.Offset
	return t.f.data[start : start+t.Size : start+t.Size]
}

// Open opens and parses the GGUF file at path, memory-mapping its tensor
// data.
func Open(path string) (*File, error) { return OpenFile(path, Options{}) }

// OpenFile opens and parses the GGUF file at path with the given options.
func OpenFile(path string, opts Options) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size < 4+4+8+8 {
		return nil, fmt.Errorf("gguf: %s: file of %d bytes is too short: %w", path, size, ErrCorrupt)
	}
	if uint64(size) > uint64(math.MaxInt) {
		return nil, fmt.Errorf("gguf: %s: file too large: %w", path, ErrUnsupported)
	}
	var data []byte
	var unmap func() error
	if opts.InMemory {
		data = make([]byte, size)
		if _, err := fh.ReadAt(data, 0); err != nil {
			return nil, fmt.Errorf("gguf: reading %s: %w", path, err)
		}
	} else {
		data, unmap, err = mmapFile(fh, int(size), opts.Populate)
		if err != nil {
			return nil, fmt.Errorf("gguf: mapping %s: %w", path, err)
		}
	}
	f, err := parse(data)
	if err != nil {
		if unmap != nil {
			unmap()
		}
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	f.unmap = unmap
	return f, nil
}

// OpenBytes parses a GGUF file held in memory. The File's tensor data
// aliases b, which must not be modified while the File is in use.
func OpenBytes(b []byte) (*File, error) { return parse(b) }

// Close releases the file mapping. Tensor data slices become invalid.
func (f *File) Close() error {
	if f.closed.Swap(true) {
		return nil
	}
	if f.unmap != nil {
		return f.unmap()
	}
	return nil
}

// Version returns the GGUF format version (2 or 3).
func (f *File) Version() uint32 { return f.version }

// Alignment returns the tensor data alignment in bytes.
func (f *File) Alignment() uint64 { return f.alignment }

// DataOffset returns the file offset of the tensor data section.
func (f *File) DataOffset() uint64 { return f.dataOffset }

// Size returns the size of the file in bytes.
func (f *File) Size() int64 { return int64(len(f.data)) }

// KVs returns the metadata in file order. The returned slice is a copy; the
// values it holds must not be modified.
func (f *File) KVs() []KV { return slices.Clone(f.kvs) }

// Value returns the value of a metadata key (see KV for the Go types used).
func (f *File) Value(key string) (any, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return nil, false
	}
	return f.kvs[i].Value, true
}

// Tensors returns the tensor infos in file order.
func (f *File) Tensors() []*TensorInfo {
	out := make([]*TensorInfo, len(f.tensors))
	for i := range f.tensors {
		out[i] = &f.tensors[i]
	}
	return out
}

// Tensor returns the info of the named tensor.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.tIndex[name]
	if !ok {
		return nil, false
	}
	return &f.tensors[i], true
}

// reader is a bounds-checked cursor over the file.
type reader struct {
	b   []byte
	pos uint64
}

func (r *reader) remaining() uint64 { return uint64(len(r.b)) - r.pos }

func (r *reader) need(n uint64, what string) error {
	if n > r.remaining() {
		return fmt.Errorf("gguf: %s at offset %d needs %d bytes, %d remain: %w", what, r.pos, n, r.remaining(), ErrCorrupt)
	}
	return nil
}

func (r *reader) u8(what string) (uint8, error) {
	if err := r.need(1, what); err != nil {
		return 0, err
	}
	v := r.b[r.pos]
	r.pos++
	return v, nil
}

func (r *reader) u16(what string) (uint16, error) {
	if err := r.need(2, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint16(r.b[r.pos:])
	r.pos += 2
	return v, nil
}

func (r *reader) u32(what string) (uint32, error) {
	if err := r.need(4, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(r.b[r.pos:])
	r.pos += 4
	return v, nil
}

func (r *reader) u64(what string) (uint64, error) {
	if err := r.need(8, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint64(r.b[r.pos:])
	r.pos += 8
	return v, nil
}

func (r *reader) str(what string) (string, error) {
	n, err := r.u64(what + " length")
	if err != nil {
		return "", err
	}
	if err := r.need(n, what); err != nil {
		return "", err
	}
	s := string(r.b[r.pos : r.pos+n]) // copied: strings outlive the mapping
	r.pos += n
	return s, nil
}

// count reads an element count and checks that count elements of at least
// minSize bytes each fit in what remains, so that allocations are bounded
// by the file size.
func (r *reader) count(what string, minSize uint64) (int, error) {
	n, err := r.u64(what)
	if err != nil {
		return 0, err
	}
	if minSize > 0 && n > r.remaining()/minSize {
		return 0, fmt.Errorf("gguf: %s %d at offset %d does not fit in the %d remaining bytes: %w", what, n, r.pos-8, r.remaining(), ErrCorrupt)
	}
	return int(n), nil
}

func parse(b []byte) (*File, error) {
	r := &reader{b: b}
	if err := r.need(4, "magic"); err != nil {
		return nil, err
	}
	if string(b[:4]) != Magic {
		return nil, fmt.Errorf("gguf: bad magic %q: %w", b[:4], ErrCorrupt)
	}
	r.pos = 4
	version, err := r.u32("version")
	if err != nil {
		return nil, err
	}
	switch {
	case version == 2 || version == 3:
	case version == 1:
		return nil, fmt.Errorf("gguf: version 1: %w", ErrUnsupported)
	case version&0xffff == 0 && bits.ReverseBytes32(version) <= 3:
		return nil, fmt.Errorf("gguf: big-endian file: %w", ErrUnsupported)
	default:
		return nil, fmt.Errorf("gguf: version %d: %w", version, ErrUnsupported)
	}
	const minTensorInfo = 8 + 4 + 4 + 8 // name length, n_dims, type, offset
	const minKV = 8 + 4 + 1             // key length, type, smallest value
	nTensors, err := r.count("tensor count", 1)
	if err != nil {
		return nil, err
	}
	nKV, err := r.count("metadata count", minKV)
	if err != nil {
		return nil, err
	}
	f := &File{version: version, alignment: DefaultAlignment}
	f.kvs = make([]KV, 0, nKV)
	f.kvIndex = make(map[string]int, nKV)
	for i := 0; i < nKV; i++ {
		key, err := r.str("metadata key")
		if err != nil {
			return nil, err
		}
		if _, dup := f.kvIndex[key]; dup {
			return nil, fmt.Errorf("gguf: duplicate metadata key %q: %w", key, ErrCorrupt)
		}
		t, err := r.u32("value type of " + key)
		if err != nil {
			return nil, err
		}
		v, err := r.value(ValueType(t), 0)
		if err != nil {
			return nil, fmt.Errorf("%w (key %q)", err, key)
		}
		f.kvIndex[key] = len(f.kvs)
		f.kvs = append(f.kvs, KV{Key: key, Value: v})
	}
	if v, ok := f.Value("general.alignment"); ok {
		a, ok := asUint(v)
		if !ok || a == 0 || a&(a-1) != 0 || a > maxAlignment {
			return nil, fmt.Errorf("gguf: general.alignment %v is not a power of two: %w", v, ErrCorrupt)
		}
		f.alignment = a
	}

	if uint64(nTensors) > r.remaining()/minTensorInfo {
		return nil, fmt.Errorf("gguf: tensor count %d does not fit in the %d remaining bytes: %w", nTensors, r.remaining(), ErrCorrupt)
	}
	f.tensors = make([]TensorInfo, nTensors)
	f.tIndex = make(map[string]int, nTensors)
	for i := range f.tensors {
		t := &f.tensors[i]
		if t.Name, err = r.str("tensor name"); err != nil {
			return nil, err
		}
		if _, dup := f.tIndex[t.Name]; dup {
			return nil, fmt.Errorf("gguf: duplicate tensor %q: %w", t.Name, ErrCorrupt)
		}
		f.tIndex[t.Name] = i
		nd, err := r.u32("dimension count")
		if err != nil {
			return nil, err
		}
		if nd > maxDims {
			return nil, fmt.Errorf("gguf: tensor %q has %d dimensions, at most %d allowed: %w", t.Name, nd, maxDims, ErrCorrupt)
		}
		t.Dims = make([]uint64, nd)
		n := uint64(1)
		for d := range t.Dims {
			if t.Dims[d], err = r.u64("dimension"); err != nil {
				return nil, err
			}
			if t.Dims[d] > math.MaxInt64 {
				return nil, fmt.Errorf("gguf: tensor %q dimension %d is %d: %w", t.Name, d, t.Dims[d], ErrCorrupt)
			}
			hi, lo := bits.Mul64(n, t.Dims[d])
			if hi != 0 || lo > math.MaxInt64 {
				return nil, fmt.Errorf("gguf: tensor %q element count overflows: %w", t.Name, ErrCorrupt)
			}
			n = lo
		}
		typ, err := r.u32("tensor type")
		if err != nil {
			return nil, err
		}
		t.Type = Type(typ)
		if !t.Type.Known() {
			return nil, fmt.Errorf("gguf: tensor %q has unknown type %d: %w", t.Name, typ, ErrUnsupported)
		}
		if nd > 0 && t.Dims[0]%uint64(t.Type.BlockSize()) != 0 {
			return nil, fmt.Errorf("gguf: tensor %q row of %d elements is not a multiple of the %v block size %d: %w",
				t.Name, t.Dims[0], t.Type, t.Type.BlockSize(), ErrCorrupt)
		}
		if t.Size, err = t.Type.RowSize(n); err != nil {
			return nil, fmt.Errorf("%w (tensor %q)", err, t.Name)
		}
		if t.Offset, err = r.u64("tensor offset"); err != nil {
			return nil, err
		}
		if t.Offset%f.alignment != 0 {
			return nil, fmt.Errorf("gguf: tensor %q offset %d is not aligned to %d: %w", t.Name, t.Offset, f.alignment, ErrCorrupt)
		}
		t.f = f
	}
	// The data section starts at the next multiple of the alignment.
	f.dataOffset = (r.pos + f.alignment - 1) / f.alignment * f.alignment
	size := uint64(len(b))
	for i := range f.tensors {
		t := &f.tensors[i]
		if f.dataOffset > size || t.Offset > size-f.dataOffset || t.Size > size-f.dataOffset-t.Offset {
			return nil, fmt.Errorf("gguf: tensor %q data [%d, +%d) lies beyond the end of the file (%d bytes, data at %d): %w",
				t.Name, t.Offset, t.Size, size, f.dataOffset, ErrCorrupt)
		}
	}
	f.data = b
	return f, nil
}

func (r *reader) value(t ValueType, depth int) (any, error) {
	switch t {
	case Uint8:
		return r.u8("uint8")
	case Int8:
		v, err := r.u8("int8")
		return int8(v), err
	case Uint16:
		return r.u16("uint16")
	case Int16:
		v, err := r.u16("int16")
		return int16(v), err
	case Uint32:
		return r.u32("uint32")
	case Int32:
		v, err := r.u32("int32")
		return int32(v), err
	case Float32:
		v, err := r.u32("float32")
		return math.Float32frombits(v), err
	case Bool:
		v, err := r.u8("bool")
		if err == nil && v > 1 {
			return nil, fmt.Errorf("gguf: bool value %d at offset %d: %w", v, r.pos-1, ErrCorrupt)
		}
		return v == 1, err
	case String:
		return r.str("string")
	case Uint64:
		return r.u64("uint64")
	case Int64:
		v, err := r.u64("int64")
		return int64(v), err
	case Float64:
		v, err := r.u64("float64")
		return math.Float64frombits(v), err
	case ArrayT:
		return r.array(depth)
	}
	return nil, fmt.Errorf("gguf: unknown value type %d at offset %d: %w", uint32(t), r.pos-4, ErrCorrupt)
}

// array reads an array value after its type tag: element type, count and
// elements. Arrays of fixed-size types are decoded in bulk.
func (r *reader) array(depth int) (any, error) {
	if depth >= maxArrayDepth {
		return nil, fmt.Errorf("gguf: arrays nested deeper than %d: %w", maxArrayDepth, ErrUnsupported)
	}
	et, err := r.u32("array element type")
	if err != nil {
		return nil, err
	}
	elem := ValueType(et)
	min := elem.minSize()
	if min < 0 {
		return nil, fmt.Errorf("gguf: unknown array element type %d at offset %d: %w", et, r.pos-4, ErrCorrupt)
	}
	n, err := r.count("array length", uint64(min))
	if err != nil {
		return nil, err
	}
	if fs := elem.fixedSize(); fs > 0 {
		raw := r.b[r.pos : r.pos+uint64(n*fs)]
		r.pos += uint64(n * fs)
		return decodeFixed(elem, raw, n)
	}
	switch elem {
	case String:
		out := make([]string, n)
		for i := range out {
			if out[i], err = r.str("string"); err != nil {
				return nil, err
			}
		}
		return out, nil
	default: // ArrayT
		out := make([]Array, n)
		for i := range out {
			// Each element is an array value without a type tag of its
			// own: element type, count, elements.
			v, err := r.array(depth + 1)
			if err != nil {
				return nil, err
			}
			_, e, _ := typeOf(v)
			out[i] = Array{Elem: e, Values: v}
		}
		return out, nil
	}
}

func decodeFixed(elem ValueType, raw []byte, n int) (any, error) {
	le := binary.LittleEndian
	switch elem {
	case Uint8:
		return slices.Clone(raw), nil
	case Int8:
		out := make([]int8, n)
		for i := range out {
			out[i] = int8(raw[i])
		}
		return out, nil
	case Bool:
		out := make([]bool, n)
		for i := range out {
			if raw[i] > 1 {
				return nil, fmt.Errorf("gguf: bool array element %d is %d: %w", i, raw[i], ErrCorrupt)
			}
			out[i] = raw[i] == 1
		}
		return out, nil
	case Uint16:
		out := make([]uint16, n)
		for i := range out {
			out[i] = le.Uint16(raw[2*i:])
		}
		return out, nil
	case Int16:
		out := make([]int16, n)
		for i := range out {
			out[i] = int16(le.Uint16(raw[2*i:]))
		}
		return out, nil
	case Uint32:
		out := make([]uint32, n)
		for i := range out {
			out[i] = le.Uint32(raw[4*i:])
		}
		return out, nil
	case Int32:
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(le.Uint32(raw[4*i:]))
		}
		return out, nil
	case Float32:
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
		return out, nil
	case Uint64:
		out := make([]uint64, n)
		for i := range out {
			out[i] = le.Uint64(raw[8*i:])
		}
		return out, nil
	case Int64:
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(le.Uint64(raw[8*i:]))
		}
		return out, nil
	case Float64:
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
		return out, nil
	}
	return nil, fmt.Errorf("gguf: array element type %v: %w", elem, ErrCorrupt)
}
