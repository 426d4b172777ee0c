package constructor

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"github.com/ctxfs/ctxfs/fs"
)

// Unit kinds: how a unit's bytes are read.
const (
	KindTurn = "turn" // "[ID] Speaker: text [image: caption]"
	KindLine = "line" // one bullet or list line
	KindPara = "para" // a paragraph of prose
	// KindJSONTurn is a JSON line {"role","content","time","id"}, the
	// form of the memory and history commands.
	KindJSONTurn = "jsonturn"
)

// Sizes a unit can be rendered at, largest first.
const (
	SizeFull       = "full"
	SizeExcerpt    = "excerpt"
	SizeCompressed = "compressed"
	SizeOneLine    = "oneline"
)

var sizes = []string{SizeFull, SizeExcerpt, SizeCompressed, SizeOneLine}

// fidelity is the share of a unit's value a size keeps. Compressed keeps
// every content word, so it keeps nearly all (a reader loses only the
// grammar); an excerpt may lose the fact; a
// one-line rendering is a pointer more than content.
var fidelity = map[string]float64{SizeFull: 1, SizeExcerpt: 0.6, SizeCompressed: 0.95, SizeOneLine: 0.25}

// unit is one retrievable piece of a document: a turn, a bullet, a paragraph.
type unit struct {
	kind       string
	id         string // turn id, or "L<line>" for lines and paragraphs
	speaker    string
	text       string // content, with any image caption appended
	heading    string // the heading above a line or paragraph
	start, end int    // byte range in the file
	pos        int    // position in the document

	terms []string       // content terms of text (and heading)
	tf    map[string]int // term frequencies
	// lines[i] is the rendered line at sizes[i]; tokens[i] its token count
	// (with its newline), both computed when the document is loaded.
	lines  [4]string
	tokens [4]int
	// kept[i] is the share of the unit's content terms the rendering at
	// sizes[i] keeps: an excerpt or a one-line rendering is worth only
	// what it keeps.
	kept [4]float64
	// sig is a 256-bit set of the unit's terms, for near-copy checks.
	sig [4]uint64
	// timed: the text has a date or a relative time expression.
	timed bool
}

func (u *unit) signature() {
	for t := range u.tf {
		h := uint32(2166136261)
		for i := 0; i < len(t); i++ {
			h = (h ^ uint32(t[i])) * 16777619
		}
		u.sig[h>>6&3] |= 1 << (h & 63)
	}
}

// FormatTurn writes one conversation turn the way the constructor reads
// history files: "[ID] Speaker: text", with " [image: CAPTION]" when the
// turn shared an image. Newlines in text are folded into spaces.
func FormatTurn(id, speaker, text, caption string) string {
	fold := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	s := "[" + fold(id) + "] " + fold(speaker) + ": " + fold(text)
	if c := fold(caption); c != "" {
		s += " [image: " + c + "]"
	}
	return s
}

var reTurn = regexp.MustCompile(`^\[([^\]\s]{1,40})\]\s+([^:\[\]]{1,60}):\s?(.*)$`)

// parseUnit reads one unit from its bytes. It is what Replay uses on the
// recorded byte range, so it must depend on nothing but its arguments.
func parseUnit(kind string, raw []byte, line int, heading string) unit {
	s := strings.TrimSpace(string(raw))
	u := unit{kind: kind, heading: heading}
	switch kind {
	case KindTurn:
		if m := reTurn.FindStringSubmatch(s); m != nil {
			u.id, u.speaker, u.text = m[1], strings.TrimSpace(m[2]), m[3]
			return u
		}
		u.text = s
	case KindJSONTurn:
		var j struct {
			Role    string `json:"role"`
			Speaker string `json:"speaker"`
			Content string `json:"content"`
			Text    string `json:"text"`
			ID      string `json:"id"`
		}
		if json.Unmarshal([]byte(s), &j) == nil {
			u.kind = KindTurn // rendered like any turn
			u.speaker = strings.Join(strings.Fields(j.Role+j.Speaker), " ")
			u.text = strings.Join(strings.Fields(j.Content+j.Text), " ")
			u.id = strings.Join(strings.Fields(j.ID), "_")
			if u.id == "" {
				u.id = "L" + itoa(line)
			}
			return u
		}
		u.text = s
	case KindLine:
		u.text = strings.TrimSpace(strings.TrimLeft(s, "-*+ "))
	default:
		u.text = strings.Join(strings.Fields(s), " ")
	}
	u.id = "L" + itoa(line)
	return u
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// render returns the unit's line at size, its relative dates anchored to at.
func (u *unit) render(size string, at time.Time) string {
	text := u.text
	turn := u.kind == KindTurn || u.kind == KindJSONTurn
	if turn {
		text = anchor(text, at)
	}
	switch size {
	case SizeExcerpt:
		text = excerpt(text, 160)
	case SizeCompressed:
		text = compress(text)
	case SizeOneLine:
		text = oneLine(text, 8)
	}
	switch {
	case turn && u.speaker != "":
		return u.id + " " + u.speaker + ": " + text
	case turn:
		return u.id + " " + text
	case u.heading != "" && u.kind == KindPara:
		return u.id + " (" + u.heading + ") " + text
	}
	return u.id + " " + text
}

// doc is a parsed file.
type doc struct {
	path    fs.Path
	version int64
	date    time.Time // when it was written or said: anchors relative dates
	source  string    // the source (by its label) that brought it
	units   []unit
	df      map[string]int     // document frequency of each term over units
	post    map[string][]int32 // units containing each term
	length  int                // total terms
}

var reHeading = regexp.MustCompile(`^#{1,6}\s+(.*)$`)

// parseDoc splits a file into units: turn lines where the file has them,
// otherwise bullets and paragraphs under their headings. The file's date
// is meta "date", else the first date in its first heading or "Date:"
// line, else its modification time.
func parseDoc(info *fs.Info, data []byte) *doc {
	d := &doc{path: info.Path, version: info.Version, df: map[string]int{}, post: map[string][]int32{}}
	if v := info.Meta["date"]; v != "" {
		if t, ok := parseDate(v); ok {
			d.date = t
		}
	}
	heading := ""
	var para []int // start, end of the open paragraph
	paraLine := 0
	flush := func() {
		if para == nil {
			return
		}
		d.add(parseUnit(KindPara, data[para[0]:para[1]], paraLine, heading), para[0], para[1])
		para = nil
	}
	line := 0
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end < 0 {
			end = len(data)
		} else {
			end += off
			next = end + 1
		}
		line++
		raw := data[off:end]
		s := strings.TrimSpace(string(raw))
		switch {
		case s == "":
			flush()
		case reHeading.MatchString(s):
			flush()
			heading = reHeading.FindStringSubmatch(s)[1]
			if d.date.IsZero() {
				if t, ok := parseDate(heading); ok {
					d.date = t
				}
			}
		case strings.HasPrefix(strings.ToLower(s), "date:") && d.date.IsZero():
			flush()
			if t, ok := parseDate(s); ok {
				d.date = t
			}
		case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") && json.Valid([]byte(s)):
			flush()
			u := parseUnit(KindJSONTurn, raw, line, heading)
			if u.text != "" {
				u.kind = KindJSONTurn
				d.add(u, off, end)
			}
		case reTurn.MatchString(s):
			flush()
			d.add(parseUnit(KindTurn, raw, line, heading), off, end)
		case strings.HasPrefix(s, "- ") || strings.HasPrefix(s, "* ") || strings.HasPrefix(s, "+ "):
			flush()
			d.add(parseUnit(KindLine, raw, line, heading), off, end)
		default:
			if para == nil {
				para = []int{off, end}
				paraLine = line
			} else {
				para[1] = end
			}
		}
		off = next
	}
	flush()
	if d.date.IsZero() {
		d.date = info.Modified.UTC().Truncate(24 * time.Hour)
	}
	return d
}

func (d *doc) add(u unit, start, end int) {
	u.start, u.end, u.pos = start, end, len(d.units)
	text := u.text
	if u.kind != KindTurn && u.kind != KindJSONTurn && u.heading != "" {
		text += " " + u.heading
	}
	u.terms = terms(text)
	u.tf = make(map[string]int, len(u.terms))
	for _, t := range u.terms {
		if u.tf[t] == 0 {
			d.df[t]++
			d.post[t] = append(d.post[t], int32(len(d.units)))
		}
		u.tf[t]++
	}
	d.length += len(u.terms)
	u.signature()
	u.timed = reRelative.MatchString(u.text) || hasDate(u.text)
	d.units = append(d.units, u)
}

// measure renders every unit at every size and counts the lines' tokens.
func (d *doc) measure(c fs.TokenCounter) {
	for i := range d.units {
		u := &d.units[i]
		for k, sz := range sizes {
			u.lines[k] = u.render(sz, d.date)
			u.kept[k] = 1
			if (sz == SizeExcerpt || sz == SizeOneLine) && len(u.tf) > 0 {
				have := map[string]bool{}
				for _, t := range terms(u.lines[k]) {
					have[t] = true
				}
				n := 0
				for t := range u.tf {
					if have[t] {
						n++
					}
				}
				u.kept[k] = float64(n) / float64(len(u.tf))
			}
			if k > 0 && u.lines[k] == u.lines[k-1] {
				u.tokens[k] = u.tokens[k-1]
				continue
			}
			u.tokens[k] = c.CountTokens(u.lines[k] + "\n")
		}
	}
}
