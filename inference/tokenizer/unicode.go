package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Character classes as llama.cpp's pre-tokenizers see them: Unicode
// general categories for letters (L), numbers (N) and punctuation (P), and
// White_Space for \s.

const (
	clLetter uint8 = 1 << iota
	clNumber
	clSpace
	clPunct
)

// asciiClass is built by a variable initializer, not init, because the
// package-level splitters built from it are initialized before init runs.
var asciiClass = buildASCIIClass()

func buildASCIIClass() (t [128]uint8) {
	for r := rune(0); r < 128; r++ {
		var c uint8
		if unicode.IsLetter(r) {
			c |= clLetter
		}
		if unicode.IsNumber(r) {
			c |= clNumber
		}
		if unicode.IsSpace(r) {
			c |= clSpace
		}
		if unicode.IsPunct(r) {
			c |= clPunct
		}
		t[r] = c
	}
	return t
}

func class(r rune) uint8 {
	if r < 128 {
		return asciiClass[r]
	}
	switch {
	case unicode.IsLetter(r):
		return clLetter
	case unicode.IsNumber(r):
		return clNumber
	case unicode.IsSpace(r):
		return clSpace
	case unicode.IsPunct(r):
		return clPunct
	}
	return 0
}

// runeAt decodes the rune at s[i:end]. Invalid bytes decode as
// utf8.RuneError with width 1, which is how llama.cpp treats them (U+FFFD).
func runeAt(s string, i, end int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:end])
}

// classAt returns the class of the rune at i, or 0 with ok false when i is
// past the end of the piece (llama.cpp's OUT_OF_RANGE).
func classAt(s string, i, end int) (c uint8, ok bool) {
	if i >= end {
		return 0, false
	}
	r, _ := runeAt(s, i, end)
	return class(r), true
}

// runeSet is a set of code point ranges, parsed from a bracket expression
// body such as "A-Za-zµ".
type runeSet [][2]rune

func parseRuneSet(spec string) runeSet {
	rs := []rune(spec)
	var set runeSet
	for i := 0; i < len(rs); i++ {
		if i+2 < len(rs) && rs[i+1] == '-' {
			set = append(set, [2]rune{rs[i], rs[i+2]})
			i += 2
			continue
		}
		set = append(set, [2]rune{rs[i], rs[i]})
	}
	return set
}

func (s runeSet) has(r rune) bool {
	for _, rg := range s {
		if r >= rg[0] && r <= rg[1] {
			return true
		}
	}
	return false
}
