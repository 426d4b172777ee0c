package gguf

import "fmt"

// ValueType is the type tag of a GGUF metadata value.
type ValueType uint32

// Metadata value types, numbered as in the GGUF specification.
const (
	Uint8   ValueType = 0
	Int8    ValueType = 1
	Uint16  ValueType = 2
	Int16   ValueType = 3
	Uint32  ValueType = 4
	Int32   ValueType = 5
	Float32 ValueType = 6
	Bool    ValueType = 7
	String  ValueType = 8
	ArrayT  ValueType = 9
	Uint64  ValueType = 10
	Int64   ValueType = 11
	Float64 ValueType = 12
)

var valueTypeNames = [...]string{"uint8", "int8", "uint16", "int16", "uint32", "int32",
	"float32", "bool", "string", "array", "uint64", "int64", "float64"}

func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("valuetype(%d)", uint32(t))
}

// fixedSize is the encoded size of a scalar value type, 0 for string and
// array, -1 for an unknown type.
func (t ValueType) fixedSize() int {
	switch t {
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16:
		return 2
	case Uint32, Int32, Float32:
		return 4
	case Uint64, Int64, Float64:
		return 8
	case String, ArrayT:
		return 0
	}
	return -1
}

// minSize is the smallest possible encoding of one value of type t, used to
// bound element counts against the bytes that remain in the file.
func (t ValueType) minSize() int {
	switch t {
	case String:
		return 8 // length
	case ArrayT:
		return 4 + 8 // element type + count
	}
	return t.fixedSize()
}

// Array is a metadata array whose elements are themselves arrays (GGUF
// allows nesting), or an array given to the Writer with an explicit element
// type. Values holds a typed slice: []uint8, []int8, []uint16, []int16,
// []uint32, []int32, []float32, []bool, []string, []uint64, []int64,
// []float64, or []Array for a further level of nesting.
//
// Top-level arrays of scalars or strings are returned by the reader as the
// plain typed slice, not wrapped in an Array; arrays of arrays are returned
// as []Array.
type Array struct {
	Elem   ValueType
	Values any
}

// Len returns the number of elements of a, or -1 if Values is not a
// supported slice type.
func (a Array) Len() int {
	switch v := a.Values.(type) {
	case []uint8:
		return len(v)
	case []int8:
		return len(v)
	case []uint16:
		return len(v)
	case []int16:
		return len(v)
	case []uint32:
		return len(v)
	case []int32:
		return len(v)
	case []float32:
		return len(v)
	case []bool:
		return len(v)
	case []string:
		return len(v)
	case []uint64:
		return len(v)
	case []int64:
		return len(v)
	case []float64:
		return len(v)
	case []Array:
		return len(v)
	}
	return -1
}

// typeOf returns the GGUF type of a Go value as the reader produces and the
// writer accepts it: scalars map to their type, typed slices and []Array to
// ArrayT with the element type.
func typeOf(v any) (t, elem ValueType, ok bool) {
	switch v := v.(type) {
	case uint8:
		return Uint8, 0, true
	case int8:
		return Int8, 0, true
	case uint16:
		return Uint16, 0, true
	case int16:
		return Int16, 0, true
	case uint32:
		return Uint32, 0, true
	case int32:
		return Int32, 0, true
	case float32:
		return Float32, 0, true
	case bool:
		return Bool, 0, true
	case string:
		return String, 0, true
	case uint64:
		return Uint64, 0, true
	case int64:
		return Int64, 0, true
	case float64:
		return Float64, 0, true
	case []uint8:
		return ArrayT, Uint8, true
	case []int8:
		return ArrayT, Int8, true
	case []uint16:
		return ArrayT, Uint16, true
	case []int16:
		return ArrayT, Int16, true
	case []uint32:
		return ArrayT, Uint32, true
	case []int32:
		return ArrayT, Int32, true
	case []float32:
		return ArrayT, Float32, true
	case []bool:
		return ArrayT, Bool, true
	case []string:
		return ArrayT, String, true
	case []uint64:
		return ArrayT, Uint64, true
	case []int64:
		return ArrayT, Int64, true
	case []float64:
		return ArrayT, Float64, true
	case []Array:
		return ArrayT, ArrayT, true
	case Array:
		if v.Len() < 0 {
			return 0, 0, false
		}
		_, e, ok := typeOf(v.Values)
		if !ok || e != v.Elem {
			return 0, 0, false
		}
		return ArrayT, v.Elem, true
	}
	return 0, 0, false
}

// KV is one metadata key/value pair. Value holds a Go value of the type
// listed for Array: a scalar (uint8 ... float64, bool, string), a typed
// slice, or []Array.
type KV struct {
	Key   string
	Value any
}

// Type returns the GGUF type of the value.
func (kv KV) Type() ValueType {
	t, _, _ := typeOf(kv.Value)
	return t
}
