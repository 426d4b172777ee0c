package sample

import (
	"strings"
	"unicode/utf8"
)

// Stopper finds stop strings in text that arrives piece by piece, and holds back just
// enough text that nothing past a stop string is ever emitted: a suffix that could be
// the start of a stop string, and an incomplete UTF-8 sequence (a token may end in the
// middle of a character). The zero value, with no stop strings, holds back only partial
// characters. A Stopper is not safe for concurrent use.
type Stopper struct {
	stops   []string
	pending string
	stopped bool
}

// NewStopper returns a Stopper for the given stop strings (empty ones are ignored).
func NewStopper(stops []string) *Stopper {
	s := &Stopper{}
	for _, x := range stops {
		if x != "" {
			s.stops = append(s.stops, x)
		}
	}
	return s
}

// Push adds text and returns the part that can be emitted now. stopped reports that a
// stop string was found; emit is then the text before it and later text is ignored.
func (s *Stopper) Push(text string) (emit string, stopped bool) {
	if s.stopped {
		return "", true
	}
	s.pending += text
	first := -1
	for _, x := range s.stops {
		if i := strings.Index(s.pending, x); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	if first >= 0 {
		emit, s.pending, s.stopped = s.pending[:first], "", true
		return emit, true
	}
	keep := 0
	for _, x := range s.stops {
		for n := min(len(x)-1, len(s.pending)); n > keep; n-- {
			if strings.HasSuffix(s.pending, x[:n]) {
				keep = n
				break
			}
		}
	}
	cut := len(s.pending) - keep
	// Do not split a UTF-8 sequence that may still be completed by the next piece.
	for back := 1; back <= 3 && back <= cut; back++ {
		b := s.pending[cut-back]
		if b < 0x80 {
			break
		}
		if utf8.RuneStart(b) {
			if !utf8.FullRuneInString(s.pending[cut-back : cut]) {
				cut -= back
			}
			break
		}
	}
	emit, s.pending = s.pending[:cut], s.pending[cut:]
	return emit, false
}

// Flush returns the text still held back, at the end of generation.
func (s *Stopper) Flush() string {
	p := s.pending
	s.pending = ""
	if s.stopped {
		return ""
	}
	return p
}
