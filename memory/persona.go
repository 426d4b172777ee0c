package memory

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sections of a persona, in file order. Superseded holds items a newer
// statement replaced, with the date range they held.
const (
	Preferences   = "Preferences"
	Facts         = "Facts"
	Goals         = "Goals"
	Relationships = "Relationships"
	Style         = "Style"
	Superseded    = "Superseded"
)

// Sections lists the standard sections in file order.
var Sections = []string{Preferences, Facts, Goals, Relationships, Style, Superseded}

// Item is one bullet of a persona file:
//
//   - lives in Lyon {home | s2#14 | 2024-06-01}
//   - lives in Paris {home | s1#3 | 2024-01-03..2024-06-01}   (under Superseded)
//
// The braces hold the slot key (items with one key contradict each other),
// the turn that stated it and the dates it held. A bullet a person wrote
// without braces is an item too; its key is its text.
type Item struct {
	Section string `json:"section"`
	Key     string `json:"key"`
	Text    string `json:"text"`
	Source  string `json:"source,omitempty"`
	Since   string `json:"since,omitempty"`
	Until   string `json:"until,omitempty"`
}

// Persona is a parsed persona file.
type Persona struct {
	User  string
	Items []Item
	// extra holds the sections a person added, in order, so they survive.
	order []string
}

func (it Item) line() string {
	var tr []string
	tr = append(tr, it.Key)
	tr = append(tr, dash(it.Source))
	dates := it.Since
	if it.Until != "" {
		dates += ".." + it.Until
	}
	tr = append(tr, dash(dates))
	return fmt.Sprintf("- %s {%s}", it.Text, strings.Join(tr, " | "))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func undash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// parsePersona reads a persona file; it accepts whatever a person may
// have written: unknown sections are kept, bullets without braces become
// items keyed by their text, other lines are dropped.
func parsePersona(user string, data []byte) *Persona {
	p := &Persona{User: user}
	section := ""
	seenSec := map[string]bool{}
	for _, ln := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(ln)
		switch {
		case strings.HasPrefix(t, "## "):
			section = canonicalSection(strings.TrimSpace(t[3:]))
			if !seenSec[section] {
				seenSec[section] = true
				p.order = append(p.order, section)
			}
		case (strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* ")) && section != "":
			it := parseBullet(strings.TrimSpace(t[2:]))
			if it.Text == "" {
				continue
			}
			it.Section = section
			p.Items = append(p.Items, it)
		}
	}
	return p
}

func canonicalSection(s string) string {
	for _, sec := range Sections {
		if strings.EqualFold(sec, s) {
			return sec
		}
	}
	return clip(sanitize(s), 60)
}

func parseBullet(s string) Item {
	var it Item
	if i := strings.LastIndex(s, " {"); i >= 0 && strings.HasSuffix(s, "}") {
		f := strings.Split(s[i+2:len(s)-1], " | ")
		if len(f) == 3 {
			it.Text = strings.TrimSpace(s[:i])
			it.Key = strings.TrimSpace(f[0])
			it.Source = undash(strings.TrimSpace(f[1]))
			since, until, _ := strings.Cut(undash(strings.TrimSpace(f[2])), "..")
			it.Since, it.Until = since, until
			if it.Key == "" {
				it.Key = textKey(it.Text)
			}
			return it
		}
	}
	it.Text = s
	it.Key = textKey(s)
	return it
}

// textKey keys a bullet a person wrote by its words.
func textKey(s string) string { return "note:" + normalize(s) }

func (p *Persona) render() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Persona: %s\n", p.User)
	order := append([]string{}, Sections[:len(Sections)-1]...)
	for _, s := range p.order {
		if !containsStr(order, s) && s != Superseded {
			order = append(order, s)
		}
	}
	order = append(order, Superseded)
	for _, sec := range order {
		first := true
		for _, it := range p.Items {
			if it.Section != sec {
				continue
			}
			if first {
				fmt.Fprintf(&b, "\n## %s\n", sec)
				first = false
			}
			b.WriteString(it.line())
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}

func containsStr(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// sanitize removes what would break the bullet format.
func sanitize(s string) string {
	s = strings.NewReplacer("{", "(", "}", ")", "|", "/", "\n", " ", "\r", " ", "#", "").Replace(s)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	return strings.Join(strings.Fields(s), " ")
}

func sanitizeSource(s string) string {
	s = strings.NewReplacer("{", "(", "}", ")", "|", "/", "\n", " ", "\r", " ", "..", ".").Replace(s)
	return clip(strings.Join(strings.Fields(s), " "), 60)
}

// normalize is the comparison form of a phrase: lowercase words without
// articles and possessive pronouns, plurals stemmed.
func normalize(s string) string {
	var out []string
	for _, f := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	}) {
		f = strings.Trim(f, "'")
		if f == "" || articles[f] {
			continue
		}
		out = append(out, stem(f))
	}
	return strings.Join(out, " ")
}

var articles = map[string]bool{"a": true, "an": true, "the": true, "my": true, "some": true, "to": false}

func stem(w string) string {
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		return w[:len(w)-1]
	}
	return w
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], ' ')
	if cut < n/2 {
		cut = n
	}
	s = s[:cut]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
