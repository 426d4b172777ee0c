package gguf

import (
	"math"
	"slices"
)

// String returns a string metadata value.
func (f *File) String(key string) (string, bool) {
	v, _ := f.Value(key)
	s, ok := v.(string)
	return s, ok
}

// Uint returns an integer metadata value of any integer type as a uint64.
// It reports false if the key is absent, not an integer, or negative.
func (f *File) Uint(key string) (uint64, bool) {
	v, _ := f.Value(key)
	return asUint(v)
}

// Int returns an integer metadata value of any integer type as an int64.
// It reports false if the key is absent, not an integer, or a uint64 too
// large for an int64.
func (f *File) Int(key string) (int64, bool) {
	v, _ := f.Value(key)
	switch v := v.(type) {
	case uint64:
		if v > math.MaxInt64 {
			return 0, false
		}
		return int64(v), true
	case int64:
		return v, true
	}
	u, ok := asUint(v)
	if ok {
		return int64(u), true
	}
	switch v := v.(type) {
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	}
	return 0, false
}

// Float returns a float32 or float64 metadata value as a float64.
func (f *File) Float(key string) (float64, bool) {
	v, _ := f.Value(key)
	switch v := v.(type) {
	case float32:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// Bool returns a bool metadata value.
func (f *File) Bool(key string) (bool, bool) {
	v, _ := f.Value(key)
	b, ok := v.(bool)
	return b, ok
}

// Strings returns a copy of a string-array metadata value.
func (f *File) Strings(key string) ([]string, bool) {
	v, _ := f.Value(key)
	s, ok := v.([]string)
	return slices.Clone(s), ok
}

// Float32s returns a copy of a float32-array metadata value.
func (f *File) Float32s(key string) ([]float32, bool) {
	v, _ := f.Value(key)
	s, ok := v.([]float32)
	return slices.Clone(s), ok
}

// Int32s returns an integer-array metadata value as int32s. Arrays of any
// integer type are accepted as long as every element fits in an int32.
func (f *File) Int32s(key string) ([]int32, bool) {
	v, _ := f.Value(key)
	switch v := v.(type) {
	case []int32:
		return slices.Clone(v), true
	case []uint8:
		return convInts(v)
	case []int8:
		return convInts(v)
	case []uint16:
		return convInts(v)
	case []int16:
		return convInts(v)
	case []uint32:
		return convInts(v)
	case []uint64:
		return convInts(v)
	case []int64:
		return convInts(v)
	}
	return nil, false
}

func convInts[T uint8 | int8 | uint16 | int16 | uint32 | uint64 | int64](s []T) ([]int32, bool) {
	out := make([]int32, len(s))
	for i, x := range s {
		if int64(x) < math.MinInt32 || int64(x) > math.MaxInt32 || (x > 0 && uint64(x) > math.MaxInt32) {
			return nil, false
		}
		out[i] = int32(x)
	}
	return out, true
}

// Arch returns general.architecture (for example "llama"), or "".
func (f *File) Arch() string {
	s, _ := f.String("general.architecture")
	return s
}

func asUint(v any) (uint64, bool) {
	switch v := v.(type) {
	case uint8:
		return uint64(v), true
	case uint16:
		return uint64(v), true
	case uint32:
		return uint64(v), true
	case uint64:
		return v, true
	case int8:
		return uint64(v), v >= 0
	case int16:
		return uint64(v), v >= 0
	case int32:
		return uint64(v), v >= 0
	case int64:
		return uint64(v), v >= 0
	}
	return 0, false
}
