package gguf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ctxfs/ctxfs/inference/gguf"
)

// sharedTestdata finds the project's shared/testdata directory by walking
// up from the working directory, or skips the test.
func sharedTestdata(tb testing.TB, rel string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "testdata", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skipf("shared/testdata/%s not found above the working directory; it holds the real model and vocabulary files this test reads", rel)
		}
		dir = parent
	}
}

// allValues has one metadata value of every type the writer accepts.
var allValues = []gguf.KV{
	{"u8", uint8(200)},
	{"i8", int8(-100)},
	{"u16", uint16(60000)},
	{"i16", int16(-30000)},
	{"u32", uint32(4000000000)},
	{"i32", int32(-2000000000)},
	{"f32", float32(3.25)},
	{"bool.true", true},
	{"bool.false", false},
	{"str", "héllo ▁world"},
	{"str.empty", ""},
	{"u64", uint64(math.MaxUint64)},
	{"i64", int64(math.MinInt64)},
	{"f64", math.Pi},
	{"a.u8", []uint8{0, 1, 255}},
	{"a.i8", []int8{-128, 0, 127}},
	{"a.u16", []uint16{1, 65535}},
	{"a.i16", []int16{-32768, 32767}},
	{"a.u32", []uint32{7, 8, 9}},
	{"a.i32", []int32{-1, 0, 1}},
	{"a.f32", []float32{-0.5, 1e30, float32(math.Inf(1))}},
	{"a.bool", []bool{true, false, true}},
	{"a.str", []string{"a", "", "▁b"}},
	{"a.u64", []uint64{math.MaxUint64}},
	{"a.i64", []int64{math.MinInt64, 5}},
	{"a.f64", []float64{1.5, -2}},
	{"a.empty", []int32{}},
	{"a.nested", []gguf.Array{
		{Elem: gguf.Int32, Values: []int32{1, 2}},
		{Elem: gguf.String, Values: []string{"x"}},
		{Elem: gguf.ArrayT, Values: []gguf.Array{{Elem: gguf.Float64, Values: []float64{0.25}}}},
		{Elem: gguf.Uint8, Values: []uint8{}},
	}},
}

func writeFile(tb testing.TB, w *gguf.Writer) []byte {
	tb.Helper()
	var buf bytes.Buffer
	n, err := w.WriteTo(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	if n != int64(buf.Len()) {
		tb.Fatalf("WriteTo reported %d bytes, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

func TestRoundTripMetadata(t *testing.T) {
	for _, version := range []uint32{2, 3} {
		w := gguf.NewWriter()
		w.Version = version
		for _, kv := range allValues {
			if err := w.Set(kv.Key, kv.Value); err != nil {
				t.Fatalf("Set(%s): %v", kv.Key, err)
			}
		}
		f, err := gguf.OpenBytes(writeFile(t, w))
		if err != nil {
			t.Fatal(err)
		}
		if f.Version() != version {
			t.Errorf("version = %d, want %d", f.Version(), version)
		}
		got := f.KVs()
		if len(got) != len(allValues) {
			t.Fatalf("%d keys, want %d", len(got), len(allValues))
		}
		for i, kv := range allValues {
			t.Run(kv.Key, func(t *testing.T) {
				if got[i].Key != kv.Key {
					t.Errorf("key %d = %q, want %q (order not kept)", i, got[i].Key, kv.Key)
				}
				if !reflect.DeepEqual(got[i].Value, kv.Value) {
					t.Errorf("v%d value = %#v, want %#v", version, got[i].Value, kv.Value)
				}
				if got[i].Type() != kv.Type() {
					t.Errorf("type = %v, want %v", got[i].Type(), kv.Type())
				}
			})
		}
	}
}

func TestAccessors(t *testing.T) {
	w := gguf.NewWriter()
	for _, kv := range allValues {
		w.Set(kv.Key, kv.Value)
	}
	w.Set("general.architecture", "llama")
	f, err := gguf.OpenBytes(writeFile(t, w))
	if err != nil {
		t.Fatal(err)
	}
	if f.Arch() != "llama" {
		t.Errorf("Arch = %q", f.Arch())
	}
	for _, key := range []string{"u8", "u16", "u32", "u64"} {
		if _, ok := f.Uint(key); !ok {
			t.Errorf("Uint(%s) not ok", key)
		}
	}
	if v, ok := f.Uint("u8"); v != 200 || !ok {
		t.Errorf("Uint(u8) = %d, %v", v, ok)
	}
	if _, ok := f.Uint("i8"); ok {
		t.Error("Uint accepted a negative value")
	}
	if v, ok := f.Int("i64"); v != math.MinInt64 || !ok {
		t.Errorf("Int(i64) = %d, %v", v, ok)
	}
	if v, ok := f.Int("i16"); v != -30000 || !ok {
		t.Errorf("Int(i16) = %d, %v", v, ok)
	}
	if _, ok := f.Int("u64"); ok {
		t.Error("Int accepted MaxUint64")
	}
	if v, ok := f.Float("f32"); v != 3.25 || !ok {
		t.Errorf("Float(f32) = %v, %v", v, ok)
	}
	if v, ok := f.Float("f64"); v != math.Pi || !ok {
		t.Errorf("Float(f64) = %v, %v", v, ok)
	}
	if v, ok := f.Bool("bool.true"); !v || !ok {
		t.Errorf("Bool = %v, %v", v, ok)
	}
	if v, ok := f.String("str"); v != "héllo ▁world" || !ok {
		t.Errorf("String = %q, %v", v, ok)
	}
	if _, ok := f.String("u8"); ok {
		t.Error("String accepted a uint8")
	}
	if v, ok := f.Strings("a.str"); !ok || !reflect.DeepEqual(v, []string{"a", "", "▁b"}) {
		t.Errorf("Strings = %q, %v", v, ok)
	}
	if v, ok := f.Float32s("a.f32"); !ok || len(v) != 3 || v[0] != -0.5 {
		t.Errorf("Float32s = %v, %v", v, ok)
	}
	if v, ok := f.Int32s("a.u16"); !ok || !reflect.DeepEqual(v, []int32{1, 65535}) {
		t.Errorf("Int32s(a.u16) = %v, %v", v, ok)
	}
	if _, ok := f.Int32s("a.u64"); ok {
		t.Error("Int32s accepted MaxUint64")
	}
	// Returned slices are copies.
	s, _ := f.Strings("a.str")
	s[0] = "changed"
	if s2, _ := f.Strings("a.str"); s2[0] != "a" {
		t.Error("Strings aliases internal state")
	}
	if _, ok := f.Value("missing"); ok {
		t.Error("Value(missing) ok")
	}
}

func TestTensors(t *testing.T) {
	for _, align := range []uint32{0, 64, 4096} {
		w := gguf.NewWriter()
		if align != 0 {
			if err := w.Set("general.alignment", align); err != nil {
				t.Fatal(err)
			}
		}
		f32 := make([]byte, 3*5*4)
		for i := range f32 {
			f32[i] = byte(i)
		}
		q4 := bytes.Repeat([]byte{0xAB}, 2*18*2) // 64x2 Q4_0
		q6k := bytes.Repeat([]byte{7}, 210)
		mustAdd := func(name string, typ gguf.Type, dims []uint64, data []byte) {
			t.Helper()
			if err := w.AddTensor(name, typ, dims, data); err != nil {
				t.Fatal(err)
			}
		}
		mustAdd("a", gguf.TypeF32, []uint64{3, 5}, f32)
		mustAdd("b", gguf.TypeQ4_0, []uint64{64, 2}, q4)
		mustAdd("c", gguf.TypeQ6_K, []uint64{256}, q6k)
		mustAdd("scalar", gguf.TypeF32, []uint64{1}, []byte{1, 2, 3, 4})
		if err := w.AddTensor("bad", gguf.TypeF32, []uint64{3}, make([]byte, 11)); !errors.Is(err, gguf.ErrCorrupt) {
			t.Errorf("AddTensor with wrong size: %v", err)
		}
		if err := w.AddTensor("bad", gguf.TypeQ8_0, []uint64{33}, make([]byte, 34)); !errors.Is(err, gguf.ErrCorrupt) {
			t.Errorf("AddTensor with partial block: %v", err)
		}
		if err := w.AddTensor("a", gguf.TypeF32, []uint64{1}, make([]byte, 4)); err == nil {
			t.Error("duplicate tensor accepted")
		}
		data := writeFile(t, w)
		path := filepath.Join(t.TempDir(), "t.gguf")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, mode := range []struct {
			name string
			open func() (*gguf.File, error)
		}{
			{"bytes", func() (*gguf.File, error) { return gguf.OpenBytes(data) }},
			{"mmap", func() (*gguf.File, error) { return gguf.Open(path) }},
			{"populate", func() (*gguf.File, error) { return gguf.OpenFile(path, gguf.Options{Populate: true}) }},
			{"inmemory", func() (*gguf.File, error) { return gguf.OpenFile(path, gguf.Options{InMemory: true}) }},
		} {
			f, err := mode.open()
			if err != nil {
				t.Fatalf("%s: %v", mode.name, err)
			}
			wantAlign := uint64(align)
			if align == 0 {
				wantAlign = gguf.DefaultAlignment
			}
			if f.Alignment() != wantAlign || f.DataOffset()%wantAlign != 0 {
				t.Errorf("%s: alignment %d, data offset %d", mode.name, f.Alignment(), f.DataOffset())
			}
			for _, c := range []struct {
				name string
				typ  gguf.Type
				dims []uint64
				data []byte
			}{{"a", gguf.TypeF32, []uint64{3, 5}, f32}, {"b", gguf.TypeQ4_0, []uint64{64, 2}, q4}, {"c", gguf.TypeQ6_K, []uint64{256}, q6k}, {"scalar", gguf.TypeF32, []uint64{1}, []byte{1, 2, 3, 4}}} {
				ti, ok := f.Tensor(c.name)
				if !ok {
					t.Fatalf("%s: tensor %s missing", mode.name, c.name)
				}
				if ti.Type != c.typ || !reflect.DeepEqual(ti.Dims, c.dims) || !bytes.Equal(ti.Data(), c.data) {
					t.Errorf("%s: tensor %s = %v %v %x", mode.name, c.name, ti.Type, ti.Dims, ti.Data())
				}
				if ti.Offset%wantAlign != 0 {
					t.Errorf("%s: tensor %s offset %d unaligned", mode.name, c.name, ti.Offset)
				}
			}
			if n := len(f.Tensors()); n != 4 {
				t.Errorf("%s: %d tensors", mode.name, n)
			}
			if _, ok := f.Tensor("nope"); ok {
				t.Error("Tensor(nope) ok")
			}
			ti, _ := f.Tensor("a")
			if err := f.Close(); err != nil {
				t.Error(err)
			}
			if ti.Data() != nil {
				t.Errorf("%s: Data after Close is not nil", mode.name)
			}
		}
	}
}

func TestTypeSizes(t *testing.T) {
	for _, c := range []struct {
		typ       gguf.Type
		block, sz int
	}{
		{gguf.TypeF32, 1, 4}, {gguf.TypeF16, 1, 2}, {gguf.TypeBF16, 1, 2}, {gguf.TypeF64, 1, 8},
		{gguf.TypeI8, 1, 1}, {gguf.TypeI16, 1, 2}, {gguf.TypeI32, 1, 4}, {gguf.TypeI64, 1, 8},
		{gguf.TypeQ4_0, 32, 18}, {gguf.TypeQ4_1, 32, 20}, {gguf.TypeQ5_0, 32, 22}, {gguf.TypeQ5_1, 32, 24},
		{gguf.TypeQ8_0, 32, 34}, {gguf.TypeQ8_1, 32, 36},
		{gguf.TypeQ2_K, 256, 84}, {gguf.TypeQ3_K, 256, 110}, {gguf.TypeQ4_K, 256, 144},
		{gguf.TypeQ5_K, 256, 176}, {gguf.TypeQ6_K, 256, 210}, {gguf.TypeQ8_K, 256, 292},
	} {
		if c.typ.BlockSize() != c.block || c.typ.TypeSize() != c.sz {
			t.Errorf("%v: block %d size %d, want %d %d", c.typ, c.typ.BlockSize(), c.typ.TypeSize(), c.block, c.sz)
		}
	}
	if n, err := gguf.TypeQ4_0.RowSize(4096); n != 128*18 || err != nil {
		t.Errorf("Q4_0 RowSize(4096) = %d, %v", n, err)
	}
	if _, err := gguf.TypeQ4_0.RowSize(33); !errors.Is(err, gguf.ErrCorrupt) {
		t.Errorf("RowSize of partial block: %v", err)
	}
	if _, err := gguf.Type(4).RowSize(1); !errors.Is(err, gguf.ErrUnsupported) {
		t.Errorf("RowSize of removed type: %v", err)
	}
	if gguf.TypeQ4_K.String() != "Q4_K" || gguf.Type(999).String() != "type(999)" {
		t.Error("Type.String")
	}
}

func validFile(tb testing.TB) []byte {
	w := gguf.NewWriter()
	for _, kv := range allValues {
		w.Set(kv.Key, kv.Value)
	}
	w.AddTensor("w", gguf.TypeQ8_0, []uint64{32, 2}, make([]byte, 68))
	w.AddTensor("v", gguf.TypeF16, []uint64{4}, make([]byte, 8))
	return writeFile(tb, w)
}

func TestCorrupt(t *testing.T) {
	good := validFile(t)
	// Every truncation fails cleanly (the tensor data of the last tensor
	// ends exactly at its padded end, so any shorter file is invalid).
	for n := 0; n < len(good)-24; n++ {
		if _, err := gguf.OpenBytes(good[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		} else if !errors.Is(err, gguf.ErrCorrupt) && !errors.Is(err, gguf.ErrUnsupported) {
			t.Fatalf("truncated to %d bytes: error %v wraps no sentinel", n, err)
		}
	}
	header := func(version uint32, nt, nkv uint64) []byte {
		b := []byte("GGUF")
		b = binary.LittleEndian.AppendUint32(b, version)
		b = binary.LittleEndian.AppendUint64(b, nt)
		return binary.LittleEndian.AppendUint64(b, nkv)
	}
	kvHead := func(b []byte, key string, typ uint32) []byte {
		b = binary.LittleEndian.AppendUint64(b, uint64(len(key)))
		b = append(b, key...)
		return binary.LittleEndian.AppendUint32(b, typ)
	}
	u32 := binary.LittleEndian.AppendUint32
	u64 := binary.LittleEndian.AppendUint64
	hugeArray := u64(u32(kvHead(header(3, 0, 1), "k", 9), 6), 1<<60)
	deep := kvHead(header(3, 0, 1), "k", 9)
	for range 100 {
		deep = u64(u32(deep, 9), 1)
	}
	tensor := func(align uint32, ndims uint32, dims []uint64, typ uint32, off uint64) []byte {
		b := header(3, 1, 1)
		b = u32(kvHead(b, "general.alignment", 4), align)
		b = u64(b, 1)
		b = append(b, 't')
		b = u32(b, ndims)
		for _, d := range dims {
			b = u64(b, d)
		}
		b = u32(b, typ)
		b = u64(b, off)
		return append(b, make([]byte, 256)...)
	}
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, gguf.ErrCorrupt},
		{"bad magic", append([]byte("GGUG"), good[4:]...), gguf.ErrCorrupt},
		{"v1", header(1, 0, 0), gguf.ErrUnsupported},
		{"v4", header(4, 0, 0), gguf.ErrUnsupported},
		{"big-endian", binary.BigEndian.AppendUint32([]byte("GGUF"), 3), gguf.ErrUnsupported},
		{"huge kv count", header(3, 0, 1<<62), gguf.ErrCorrupt},
		{"huge tensor count", header(3, 1<<62, 0), gguf.ErrCorrupt},
		{"huge string", u64(kvHead(header(3, 0, 1), "k", 8), 1<<62), gguf.ErrCorrupt},
		{"huge array", hugeArray, gguf.ErrCorrupt},
		{"deep array", deep, gguf.ErrUnsupported},
		{"bad value type", append(kvHead(header(3, 0, 1), "k", 13), 0), gguf.ErrCorrupt},
		{"bad bool", append(kvHead(header(3, 0, 1), "k", 7), 2), gguf.ErrCorrupt},
		{"dup key", append(kvHead(append(kvHead(header(3, 0, 2), "k", 0), 1), "k", 0), 1), gguf.ErrCorrupt},
		{"bad alignment", u32(kvHead(header(3, 0, 1), "general.alignment", 4), 3), gguf.ErrCorrupt},
		{"zero alignment", u32(kvHead(header(3, 0, 1), "general.alignment", 4), 0), gguf.ErrCorrupt},
		{"too many dims", tensor(32, 5, []uint64{1, 1, 1, 1, 1}, 0, 0), gguf.ErrCorrupt},
		{"unknown type", tensor(32, 1, []uint64{1}, 4, 0), gguf.ErrUnsupported},
		{"partial block", tensor(32, 1, []uint64{33}, 8, 0), gguf.ErrCorrupt},
		{"dims overflow", tensor(32, 2, []uint64{1 << 40, 1 << 40}, 0, 0), gguf.ErrCorrupt},
		{"unaligned offset", tensor(32, 1, []uint64{1}, 0, 4), gguf.ErrCorrupt},
		{"data past end", tensor(32, 1, []uint64{1000}, 0, 0), gguf.ErrCorrupt},
		{"offset past end", tensor(32, 1, []uint64{1}, 0, 1<<62), gguf.ErrCorrupt},
		{"huge offset", tensor(32, 1, []uint64{1}, 0, math.MaxUint64-31), gguf.ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := gguf.OpenBytes(c.data)
			if !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
		})
	}
	// A well-formed tensor at the edge of the file is accepted.
	ok := tensor(32, 1, []uint64{2}, 0, 0)
	if f, err := gguf.OpenBytes(ok); err != nil {
		t.Errorf("valid single-tensor file: %v", err)
	} else if ti, _ := f.Tensor("t"); len(ti.Data()) != 8 {
		t.Errorf("tensor data %d bytes", len(ti.Data()))
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := gguf.Open(filepath.Join(t.TempDir(), "missing.gguf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	p := filepath.Join(t.TempDir(), "empty.gguf")
	os.WriteFile(p, nil, 0o644)
	if _, err := gguf.Open(p); !errors.Is(err, gguf.ErrCorrupt) {
		t.Errorf("empty file: %v", err)
	}
}

func TestStories260K(t *testing.T) {
	path := sharedTestdata(t, "models/stories260K/stories260K.gguf")
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Arch() != "llama" {
		t.Errorf("arch %q", f.Arch())
	}
	for _, key := range []string{"llama.block_count", "llama.embedding_length", "llama.attention.head_count", "llama.context_length", "llama.feed_forward_length"} {
		if v, ok := f.Uint(key); !ok || v == 0 {
			t.Errorf("%s = %d, %v", key, v, ok)
		}
	}
	tokens, ok := f.Strings("tokenizer.ggml.tokens")
	if !ok || len(tokens) != 512 {
		t.Errorf("%d tokens, %v", len(tokens), ok)
	}
	if scores, ok := f.Float32s("tokenizer.ggml.scores"); !ok || len(scores) != len(tokens) {
		t.Errorf("%d scores, %v", len(scores), ok)
	}
	emb, ok := f.Tensor("token_embd.weight")
	if !ok {
		t.Fatal("no token_embd.weight")
	}
	dim, _ := f.Uint("llama.embedding_length")
	if len(emb.Dims) != 2 || emb.Dims[0] != dim || emb.Dims[1] != 512 {
		t.Errorf("token_embd dims %v", emb.Dims)
	}
	var total uint64
	for _, ti := range f.Tensors() {
		rs, err := ti.Type.RowSize(ti.Elements())
		if err != nil || rs != ti.Size || uint64(len(ti.Data())) != ti.Size {
			t.Errorf("tensor %s: size %d, rowsize %d (%v), data %d", ti.Name, ti.Size, rs, err, len(ti.Data()))
		}
		total += ti.Size
	}
	if total == 0 || f.DataOffset()+total > uint64(f.Size()) {
		t.Errorf("tensor bytes %d, data offset %d, file %d", total, f.DataOffset(), f.Size())
	}
	t.Logf("stories260K: v%d, %d keys, %d tensors, %d tensor bytes", f.Version(), len(f.KVs()), len(f.Tensors()), total)
}

func TestVocabFiles(t *testing.T) {
	dir := sharedTestdata(t, "tokenizers/llama.cpp-vocab")
	paths, _ := filepath.Glob(filepath.Join(dir, "*.gguf"))
	if len(paths) == 0 {
		t.Skip("no vocabulary files")
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			f, err := gguf.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			model, ok := f.String("tokenizer.ggml.model")
			tokens, ok2 := f.Strings("tokenizer.ggml.tokens")
			if !ok || !ok2 || len(tokens) == 0 {
				t.Fatalf("model %q (%v), %d tokens (%v)", model, ok, len(tokens), ok2)
			}
			// The in-memory mode parses to the same thing.
			g, err := gguf.OpenFile(p, gguf.Options{InMemory: true})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			if !reflect.DeepEqual(f.KVs(), g.KVs()) {
				t.Error("in-memory metadata differs from mapped metadata")
			}
			t.Logf("%s: model %s, %d tokens, %d keys", filepath.Base(p), model, len(tokens), len(f.KVs()))
		})
	}
}
