package workspace

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file holds the shallow text analysis the rule-based operator and the
// query share: sentences, capitalized phrases, dates and event phrases.
// It is deliberately lexical: no model, deterministic, linear in the input.

var months = map[string]time.Month{
	"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
	"august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
	"oct": 10, "nov": 11, "dec": 12,
}

const monthAlt = `(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?`

var (
	// "September 22, 2026", "May 7 2024"
	reMDY = regexp.MustCompile(`\b(` + monthAlt + `)\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b`)
	// "8 May, 2023", "8 May 2023"
	reDMY = regexp.MustCompile(`\b(\d{1,2})(?:st|nd|rd|th)?\s+(` + monthAlt + `),?\s+(\d{4})\b`)
	// "2024-05-07"
	reISO = regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})\b`)
	// "2:24 PM", "1:56 pm"
	reClock = regexp.MustCompile(`(?i)\b(\d{1,2}):(\d{2})\s*([ap]\.?m\.?)?`)
)

// dateMention is a date found in text: its surface form and its day.
type dateMention struct {
	Surface string
	Day     time.Time
	Pos     int
}

// findDates returns the dates in s in order of appearance.
func findDates(s string) []dateMention {
	var out []dateMention
	add := func(pos int, surface string, y, m, d int) {
		if m < 1 || m > 12 || d < 1 || d > 31 || y < 1 || y > 9999 {
			return
		}
		t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
		if t.Day() != d { // Feb 30 and friends
			return
		}
		out = append(out, dateMention{Surface: surface, Day: t, Pos: pos})
	}
	for _, m := range reMDY.FindAllStringSubmatchIndex(s, -1) {
		mon := months[strings.ToLower(strings.TrimSuffix(s[m[2]:m[3]], "."))]
		d, _ := strconv.Atoi(s[m[4]:m[5]])
		y, _ := strconv.Atoi(s[m[6]:m[7]])
		add(m[0], s[m[0]:m[1]], y, int(mon), d)
	}
	for _, m := range reDMY.FindAllStringSubmatchIndex(s, -1) {
		d, _ := strconv.Atoi(s[m[2]:m[3]])
		mon := months[strings.ToLower(strings.TrimSuffix(s[m[4]:m[5]], "."))]
		y, _ := strconv.Atoi(s[m[6]:m[7]])
		add(m[0], s[m[0]:m[1]], y, int(mon), d)
	}
	for _, m := range reISO.FindAllStringSubmatchIndex(s, -1) {
		y, _ := strconv.Atoi(s[m[2]:m[3]])
		mo, _ := strconv.Atoi(s[m[4]:m[5]])
		d, _ := strconv.Atoi(s[m[6]:m[7]])
		add(m[0], s[m[0]:m[1]], y, mo, d)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pos < out[j].Pos })
	return out
}

// parseDay parses a date written in any form findDates knows.
func parseDay(s string) (time.Time, bool) {
	ds := findDates(s)
	if len(ds) == 0 {
		return time.Time{}, false
	}
	return ds[0].Day, true
}

// splitSentences splits text into sentences at ., ! and ? followed by
// space, and at line breaks. Quotes stay with their sentence.
func splitSentences(text string) []string {
	var out []string
	start := 0
	flush := func(end int) {
		s := strings.TrimSpace(text[start:end])
		if s != "" {
			out = append(out, s)
		}
		start = end
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\n':
			flush(i + 1)
		case c == '.' || c == '!' || c == '?':
			j := i + 1
			for j < len(text) && (text[j] == '"' || text[j] == '\'' || text[j] == ')') {
				j++
			}
			if j >= len(text) || text[j] == ' ' || text[j] == '\n' {
				// "St. Patrick" and "Mr. Smith" are not sentence ends.
				w := lastWord(text[start:i])
				if abbreviations[strings.ToLower(w)] {
					continue
				}
				flush(j)
				i = j - 1
			}
		}
	}
	flush(len(text))
	return out
}

var abbreviations = map[string]bool{"st": true, "mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "jr": true, "sr": true, "mt": true, "vs": true, "etc": false}

func lastWord(s string) string {
	i := strings.LastIndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	return s[i+1:]
}

// word is a token of a sentence.
type word struct {
	Text  string // without a possessive ending
	Poss  bool   // ended in 's
	Break bool   // punctuation follows: a name cannot run on
	Start int    // index in the sentence's word list
}

// words splits a sentence into words: letters, digits, inner apostrophes,
// hyphens and dots ("St.").
func words(s string) []word {
	var out []word
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			i += n
			continue
		}
		j := i
		for j < len(s) {
			r, n := utf8.DecodeRuneInString(s[j:])
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				j += n
				continue
			}
			if (r == '\'' || r == '’' || r == '-' || r == '.') && j+n < len(s) {
				r2, _ := utf8.DecodeRuneInString(s[j+n:])
				if unicode.IsLetter(r2) {
					j += n
					continue
				}
			}
			if r == '.' && abbreviations[strings.ToLower(s[i:j])] {
				j += n
			}
			break
		}
		w := s[i:j]
		poss := false
		for _, suf := range []string{"'s", "’s", "'", "’"} {
			if len(w) > len(suf) && strings.HasSuffix(w, suf) {
				w, poss = w[:len(w)-len(suf)], true
				break
			}
		}
		brk := false
		for k := j; k < len(s); {
			r, n := utf8.DecodeRuneInString(s[k:])
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				break
			}
			if !unicode.IsSpace(r) {
				brk = true
			}
			k += n
		}
		out = append(out, word{Text: w, Poss: poss, Break: brk, Start: len(out)})
		i = j
	}
	return out
}

func isCapitalized(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return unicode.IsUpper(r)
}

// connectors may join the words of one name: "Statue of Liberty".
var connectors = map[string]bool{"of": true, "de": true, "van": true, "von": true, "the": true, "du": true, "la": true, "del": true}

// phrase is a run of capitalized words in a sentence.
type phrase struct {
	Text    string
	Words   []string
	First   bool // starts the sentence
	Poss    bool // ends in a possessive
	Before  string
	EndIdx  int // index of the word after the phrase
	StartIx int
}

// capPhrases returns the runs of capitalized words of a sentence.
func capPhrases(ws []word) []phrase {
	var out []phrase
	for i := 0; i < len(ws); {
		if !isCapitalized(ws[i].Text) || isMonthOrDay(ws[i].Text) {
			i++
			continue
		}
		j := i + 1
		parts := []string{ws[i].Text}
		for j < len(ws) && !ws[j-1].Break {
			if ws[j-1].Poss {
				// "St. Patrick's Cathedral" is one name; "Henry's Camera" is not.
				if isCapitalized(ws[j].Text) && placeHeads[strings.ToLower(ws[j].Text)] {
					parts[len(parts)-1] += "'s"
					parts = append(parts, ws[j].Text)
					j++
					continue
				}
				break
			}
			if isCapitalized(ws[j].Text) && !isMonthOrDay(ws[j].Text) {
				parts = append(parts, ws[j].Text)
				j++
				continue
			}
			// A lowercase connector followed by a capitalized word continues the name.
			if connectors[ws[j].Text] && !ws[j].Break && j+1 < len(ws) && isCapitalized(ws[j+1].Text) && !isMonthOrDay(ws[j+1].Text) {
				parts = append(parts, ws[j].Text, ws[j+1].Text)
				j += 2
				continue
			}
			break
		}
		p := phrase{Words: parts, First: i == 0, Poss: ws[j-1].Poss, EndIdx: j, StartIx: i}
		if i > 0 {
			p.Before = strings.ToLower(ws[i-1].Text)
		}
		// Leading function words ("The", "At", "As") and sentence adverbs
		// ("Later", "Suddenly") are not part of a name.
		for len(p.Words) > 0 && (stopwords[strings.ToLower(p.Words[0])] || len(p.Words) > 1 && (interjections[strings.ToLower(p.Words[0])] || p.First && leadAdverb(p.Words[0]))) {
			p.Words = p.Words[1:]
			p.First = false
			p.Before = ""
		}
		if len(p.Words) > 0 {
			p.Text = strings.Join(p.Words, " ")
			out = append(out, p)
		}
		i = j
	}
	return out
}

func isMonthOrDay(w string) bool {
	lw := strings.ToLower(strings.TrimSuffix(w, "."))
	if _, ok := months[lw]; ok && len(lw) > 2 {
		return true
	}
	switch lw {
	case "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "pm", "am":
		return true
	}
	return false
}

// Place names end in a geographic head or start with a geographic prefix.
var placeHeads = map[string]bool{
	"park": true, "bridge": true, "museum": true, "building": true, "center": true, "centre": true,
	"island": true, "course": true, "cathedral": true, "church": true, "harbor": true,
	"harbour": true, "street": true, "avenue": true, "square": true, "hall": true, "station": true,
	"beach": true, "lake": true, "river": true, "mountain": true, "mountains": true, "garden": true,
	"gardens": true, "library": true, "theater": true, "theatre": true, "stadium": true, "airport": true,
	"hotel": true, "university": true, "college": true, "school": true, "tower": true, "plaza": true,
	"market": true, "city": true, "county": true, "valley": true, "bay": true, "road": true,
	"cafe": true, "café": true, "restaurant": true, "gallery": true, "arena": true, "palace": true,
	"castle": true, "zoo": true, "hospital": true, "village": true, "town": true, "falls": true,
	"heights": true, "terminal": true, "pier": true, "boulevard": true, "lane": true, "forest": true,
	"studio": true, "club": false, "statue": true, "monument": true, "memorial": true,
}
var placePrefixes = map[string]bool{"port": true, "mount": true, "mt.": true, "lake": true, "fort": true, "st.": true, "saint": true, "statue": true, "new": true, "san": true, "los": true, "las": true}

var orgHeads = map[string]bool{"inc": true, "corp": true, "company": true, "club": true, "society": true,
	"association": true, "bank": true, "group": true, "team": true, "foundation": true, "institute": true,
	"agency": true, "council": true, "committee": true, "ltd": true, "llc": true}

// Event heads are nouns that name an occasion.
var eventHeads = map[string]bool{
	"workshop": true, "festival": true, "exhibition": true, "show": true, "concert": true, "night": true,
	"hackathon": true, "performance": true, "reenactment": true, "circle": true, "challenge": true,
	"slam": true, "fair": true, "event": true, "screening": true, "conference": true, "meeting": true,
	"party": true, "wedding": true, "tournament": true, "ceremony": true, "lecture": true,
	"class": true, "tour": true, "trip": true, "parade": true, "gala": true, "recital": true,
	"competition": true, "race": true, "marathon": true, "meetup": true, "launch": true, "premiere": true,
	"rehearsal": true, "game": true, "match": true, "seminar": true, "retreat": true, "camp": true,
	"auction": true, "exhibit": true, "fundraiser": true, "reunion": true, "celebration": true,
	"vacation": true, "hike": true, "interview": true, "session": true, "group": false, "dinner": true,
	"picnic": true, "convention": true, "expo": true, "summit": true, "rally": true, "protest": true,
	"funeral": true, "birthday": true, "graduation": true, "sale": true, "visit": true, "talk": true,
}

var stopwords = toSet(`a an the and or but if then than so of at in on to for from by with without about
as into onto over under after before during while since until up down out off near this that these those
it its he she they them his her their him we us our you your i me my mine is was were are be been being am
has have had do does did not no nor very just also too only even still yet there here when where what which
who whom whose why how all any each every some such both either neither one ones other another more most
can could would should will shall may might must let lets like s t said says say once again now then
consider recall reflect think provide list describe enumerate tell give include including focus focusing
mention mentioning describing event events happened occurred took place story timeline chronology
chronological order earliest latest recent most last time date dates location locations protagonist
protagonists involved involving related experience experiences key unique various observed visited
doing activities activity rather what whether without i'm i've i'd i'll`)

func toSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[f] = true
	}
	return m
}

// contentWords returns the lowercase, stemmed words of s that are not stopwords.
func contentWords(s string) []string {
	var out []string
	for _, w := range words(s) {
		lw := strings.ToLower(w.Text)
		if stopwords[lw] || len(lw) < 2 {
			continue
		}
		out = append(out, stem(lw))
	}
	return out
}

// stem strips common English inflections so "workshops" meets "workshop".
func stem(w string) string {
	switch {
	case len(w) > 5 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 4 && strings.HasSuffix(w, "es") && (strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "sses")):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		return w[:len(w)-1]
	}
	return w
}

// eventPhrases finds occasion phrases such as "craft beer festival": up to
// two modifiers before an event head noun.
func eventPhrases(ws []word) []string {
	var out []string
	for i, w := range ws {
		lw := stem(strings.ToLower(w.Text))
		if !eventHeads[lw] {
			continue
		}
		start := i
		for k := i - 1; k >= 0 && k >= i-2; k-- {
			lk := strings.ToLower(ws[k].Text)
			if stopwords[lk] || ws[k].Poss || isDigits(lk) || isMonthOrDay(lk) || adjectives[lk] {
				break
			}
			start = k
		}
		parts := make([]string, 0, i-start+1)
		for k := start; k <= i; k++ {
			parts = append(parts, strings.ToLower(ws[k].Text))
		}
		parts[len(parts)-1] = lw
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

// adjectives that describe an occasion rather than name its kind.
var adjectives = toSet(`annual monthly weekly daily first second third last next final big small grand great local
new old little huge long short whole entire special main opening closing late early evening morning afternoon
nightly tonight's tonight busy crowded packed exciting amazing wonderful fun`)

func isDigits(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return s != ""
}

// slug makes a file name from a name: lowercase letters, digits and dashes.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	s := b.String()
	if len(s) > 80 {
		s = s[:80]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	if s == "" {
		s = "entity"
	}
	return s
}

// normKey is the matching key of a name: lowercase, no possessive, single spaces.
func normKey(name string) string {
	var parts []string
	for _, w := range words(name) {
		parts = append(parts, strings.ToLower(w.Text))
	}
	return strings.Join(parts, " ")
}

// clip shortens s to at most n bytes at a word boundary.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
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
	return s + "…"
}

func leadAdverb(w string) bool {
	lw := strings.ToLower(w)
	return adverbs[lw] || len(lw) > 4 && strings.HasSuffix(lw, "ly") && !strings.HasSuffix(lw, "illy")
}

var adverbs = toSet(`later earlier meanwhile yesterday today tomorrow tonight finally afterwards afterward soon
eventually together perhaps maybe however still suddenly instead again already sometimes once well anyway`)

// interjections open a phrase in dialogue ("Hey Caroline") but are no part of a name.
var interjections = toSet(`hey hi hello thanks thank wow yeah yes oh ok okay sure great cool awesome congrats
congratulations haha lol omg dear bye goodbye sorry please`)
