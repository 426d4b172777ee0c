package gguf

import (
	"fmt"
	"math/bits"
)

// Type is a GGML tensor element type, as stored in a GGUF tensor info.
// Quantized types store elements in fixed-size blocks; BlockSize and
// TypeSize describe the layout so that row and tensor byte sizes can be
// computed without knowing the encoding itself.
type Type uint32

// GGML tensor types. The numeric values are those of ggml.h; gaps are
// types that ggml has removed.
const (
	TypeF32     Type = 0
	TypeF16     Type = 1
	TypeQ4_0    Type = 2
	TypeQ4_1    Type = 3
	TypeQ5_0    Type = 6
	TypeQ5_1    Type = 7
	TypeQ8_0    Type = 8
	TypeQ8_1    Type = 9
	TypeQ2_K    Type = 10
	TypeQ3_K    Type = 11
	TypeQ4_K    Type = 12
	TypeQ5_K    Type = 13
	TypeQ6_K    Type = 14
	TypeQ8_K    Type = 15
	TypeIQ2_XXS Type = 16
	TypeIQ2_XS  Type = 17
	TypeIQ3_XXS Type = 18
	TypeIQ1_S   Type = 19
	TypeIQ4_NL  Type = 20
	TypeIQ3_S   Type = 21
	TypeIQ2_S   Type = 22
	TypeIQ4_XS  Type = 23
	TypeI8      Type = 24
	TypeI16     Type = 25
	TypeI32     Type = 26
	TypeI64     Type = 27
	TypeF64     Type = 28
	TypeIQ1_M   Type = 29
	TypeBF16    Type = 30
	TypeTQ1_0   Type = 34
	TypeTQ2_0   Type = 35
	TypeMXFP4   Type = 39
)

// qkK is the super-block size of the K-quants and most IQ types.
const qkK = 256

type typeTraits struct {
	name      string
	blockSize int // elements per block
	typeSize  int // bytes per block
}

var traits = map[Type]typeTraits{
	TypeF32:     {"F32", 1, 4},
	TypeF16:     {"F16", 1, 2},
	TypeBF16:    {"BF16", 1, 2},
	TypeF64:     {"F64", 1, 8},
	TypeI8:      {"I8", 1, 1},
	TypeI16:     {"I16", 1, 2},
	TypeI32:     {"I32", 1, 4},
	TypeI64:     {"I64", 1, 8},
	TypeQ4_0:    {"Q4_0", 32, 2 + 16},
	TypeQ4_1:    {"Q4_1", 32, 2 + 2 + 16},
	TypeQ5_0:    {"Q5_0", 32, 2 + 4 + 16},
	TypeQ5_1:    {"Q5_1", 32, 2 + 2 + 4 + 16},
	TypeQ8_0:    {"Q8_0", 32, 2 + 32},
	TypeQ8_1:    {"Q8_1", 32, 2 + 2 + 32},
	TypeQ2_K:    {"Q2_K", qkK, qkK/16 + qkK/4 + 2 + 2},
	TypeQ3_K:    {"Q3_K", qkK, qkK/8 + qkK/4 + 12 + 2},
	TypeQ4_K:    {"Q4_K", qkK, 2 + 2 + 12 + qkK/2},
	TypeQ5_K:    {"Q5_K", qkK, 2 + 2 + 12 + qkK/8 + qkK/2},
	TypeQ6_K:    {"Q6_K", qkK, qkK/2 + qkK/4 + qkK/16 + 2},
	TypeQ8_K:    {"Q8_K", qkK, 4 + qkK + qkK/16*2},
	TypeIQ2_XXS: {"IQ2_XXS", qkK, 2 + qkK/8*2},
	TypeIQ2_XS:  {"IQ2_XS", qkK, 2 + qkK/8*2 + qkK/32},
	TypeIQ3_XXS: {"IQ3_XXS", qkK, 2 + 3*qkK/8},
	TypeIQ1_S:   {"IQ1_S", qkK, 2 + qkK/8 + qkK/16},
	TypeIQ4_NL:  {"IQ4_NL", 32, 2 + 16},
	TypeIQ3_S:   {"IQ3_S", qkK, 2 + qkK/4 + qkK/32 + qkK/8 + qkK/64},
	TypeIQ2_S:   {"IQ2_S", qkK, 2 + qkK/4 + qkK/32 + qkK/32},
	TypeIQ4_XS:  {"IQ4_XS", qkK, 2 + 2 + qkK/64 + qkK/2},
	TypeIQ1_M:   {"IQ1_M", qkK, qkK/8 + qkK/16 + qkK/32},
	TypeTQ1_0:   {"TQ1_0", qkK, (qkK-4*qkK/64)/5 + qkK/64 + 2},
	TypeTQ2_0:   {"TQ2_0", qkK, qkK/4 + 2},
	TypeMXFP4:   {"MXFP4", 32, 1 + 16},
}

// Known reports whether the reader knows the block layout of t.
func (t Type) Known() bool { _, ok := traits[t]; return ok }

// BlockSize is the number of elements in one block of t (1 for plain
// types), or 0 for an unknown type.
func (t Type) BlockSize() int { return traits[t].blockSize }

// TypeSize is the number of bytes in one block of t, or 0 for an unknown
// type.
func (t Type) TypeSize() int { return traits[t].typeSize }

// Quantized reports whether t stores elements in multi-element blocks.
func (t Type) Quantized() bool { return t.BlockSize() > 1 }

func (t Type) String() string {
	if tr, ok := traits[t]; ok {
		return tr.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// RowSize returns the number of bytes taken by n consecutive elements of
// type t. It fails if t is unknown, if n is not a multiple of the block
// size, or on overflow.
func (t Type) RowSize(n uint64) (uint64, error) {
	tr, ok := traits[t]
	if !ok {
		return 0, fmt.Errorf("gguf: tensor type %d: %w", uint32(t), ErrUnsupported)
	}
	bs := uint64(tr.blockSize)
	if n%bs != 0 {
		return 0, fmt.Errorf("gguf: %d elements of %v is not a whole number of %d-element blocks: %w", n, t, bs, ErrCorrupt)
	}
	hi, lo := bits.Mul64(n/bs, uint64(tr.typeSize))
	if hi != 0 {
		return 0, fmt.Errorf("gguf: size of %d elements of %v overflows: %w", n, t, ErrCorrupt)
	}
	return lo, nil
}
