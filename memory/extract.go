package memory

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
)

// Turn is one turn of a conversation.
type Turn struct {
	Role    string `json:"role"` // "user" turns are read; others are context
	Content string `json:"content"`
	Time    string `json:"time,omitempty"` // when it was said, as given
	// ID names the turn in provenance ("s1#3"); empty means its position.
	ID string `json:"id,omitempty"`
}

// Extractor finds candidate persona items in turns. Each candidate has
// Section, Key, Text, Source and Since set. Implementations are safe for
// concurrent use.
type Extractor interface {
	Extract(ctx context.Context, turns []Turn) ([]Item, error)
}

// Limits that bound what extraction can produce, whatever the input.
const (
	// MaxTurnBytes is the longest turn read; longer ones are cut.
	MaxTurnBytes = 64 << 10
	// MaxTurns is the most turns one Observe takes.
	MaxTurns        = 10000
	maxItemsPerTurn = 20
	maxTextBytes    = 200
)

// Rules is the deterministic extractor: first-person statements of likes,
// dislikes and preferences, facts (home, origin, job, name, age, pets),
// relationships, goals and plans, and style requests, with negation and
// change of mind ("I don't like X anymore", "I no longer plan to Y")
// written as new values of the same slot.
//
// Rules is stateless and safe for concurrent use.
type Rules struct{}

var _ Extractor = Rules{}

// An object phrase: up to eight words, ending at punctuation or a clause word.
const obj = `([^.,;:!?()]{1,80}?)`
const end = `(?:\s+(?:but|and i|because|since|so|when|if|though|although|which|who)\b|\s*[.,;:!?()]|$)`

type rule struct {
	re      *regexp.Regexp
	section string
	key     func(m []string) string
	text    func(m []string) string
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(`(?i)(?:^|[^a-z'])` + s) }

var rules = []rule{
	// Negations and changes of mind come first: the first rule that
	// matches a span wins.
	{re(`i (?:do not|don't|dont|no longer|don't really|do not really) (?:like|love|enjoy|care for) ` + obj + end), Preferences,
		func(m []string) string { return "pref:" + normalize(trimObj(m[1])) }, func(m []string) string { return "does not like " + trimObj(m[1]) }},
	{re(`i (?:hate|dislike|can't stand|cannot stand|detest|am not a fan of|'m not a fan of|m not a fan of) ` + obj + end), Preferences,
		func(m []string) string { return "pref:" + normalize(trimObj(m[1])) }, func(m []string) string { return "dislikes " + trimObj(m[1]) }},
	{re(`i (?:really |absolutely |totally |just |also |still )?(love|like|enjoy|adore) ` + obj + end), Preferences,
		func(m []string) string { return "pref:" + normalize(trimObj(m[2])) }, func(m []string) string { return verb3(m[1]) + " " + trimObj(m[2]) }},
	{re(`i (?:now |actually )?prefer ` + obj + end), Preferences,
		func(m []string) string { return "prefer:" + preferKey(m[1]) }, func(m []string) string { return "prefers " + trimObj(m[1]) }},
	{re(`my (?:favou?rite|fave) ([a-z]+(?: [a-z]+)?) (?:is|are|has become|is now) ` + obj + end), Preferences,
		func(m []string) string { return "favorite:" + normalize(m[1]) }, func(m []string) string { return "favorite " + strings.ToLower(m[1]) + ": " + trimObj(m[2]) }},
	{re(`i (?:am|'m|m) (?:a |an )?(vegetarian|vegan|pescatarian|teetotal|gluten[- ]free|lactose intolerant|allergic to [a-z ]{1,30}?)` + end), Facts,
		func(m []string) string { return "diet:" + normalize(firstWord(m[1])) }, func(m []string) string { return "is " + strings.ToLower(m[1]) }},

	{re(`i (?:do not|don't|dont|no longer) live in ` + obj + end), Facts,
		func(m []string) string { return "home" }, func(m []string) string { return "no longer lives in " + trimObj(m[1]) }},
	{re(`i (?:live|am living|'m living|m living|reside|now live|just moved|moved|have moved|'ve moved|relocated) (?:in|to) ` + obj + end), Facts,
		func(m []string) string { return "home" }, func(m []string) string { return "lives in " + trimObj(m[1]) }},
	{re(`i (?:am|'m|m) (?:originally )?from ` + obj + end), Facts,
		func(m []string) string { return "origin" }, func(m []string) string { return "is from " + trimObj(m[1]) }},
	{re(`i grew up in ` + obj + end), Facts,
		func(m []string) string { return "origin" }, func(m []string) string { return "grew up in " + trimObj(m[1]) }},
	{re(`i (?:quit|left|lost) my job(?: (?:at|as) ` + obj + `)?` + end), Facts,
		func(m []string) string { return "job" }, func(m []string) string { return strings.TrimSpace("left job " + trimObj(m[1])) }},
	{re(`i (?:work|am working|'m working|m working|now work|started working) (as|at|for) ` + obj + end), Facts,
		func(m []string) string { return "job" }, func(m []string) string { return "works " + strings.ToLower(m[1]) + " " + trimObj(m[2]) }},
	{re(`my job is ` + obj + end), Facts,
		func(m []string) string { return "job" }, func(m []string) string { return "job: " + trimObj(m[1]) }},
	{re(`i (?:am|'m|m) (?:a|an) ((?:[a-z]+ )?(?:teacher|engineer|nurse|doctor|developer|programmer|designer|artist|writer|student|lawyer|chef|cook|accountant|manager|scientist|researcher|musician|photographer|farmer|pilot|driver|painter|counselor|therapist|consultant|professor|architect|pharmacist|mechanic|electrician|carpenter|plumber|firefighter|officer|journalist|editor|dentist|veterinarian|retiree|freelancer))` + end), Facts,
		func(m []string) string { return "job" }, func(m []string) string { return "is a " + strings.ToLower(m[1]) }},
	{re(`my name is ` + obj + end), Facts,
		func(m []string) string { return "name" }, func(m []string) string { return "name: " + trimObj(m[1]) }},
	{re(`i (?:am|'m|m) (\d{1,3}) (?:years old|yo)\b`), Facts,
		func(m []string) string { return "age" }, func(m []string) string { return "is " + m[1] + " years old" }},
	{re(`i (?:have|own|got|adopted) (?:a|an|two|three|\d+) ([a-z]+?)s? (?:named|called) ` + obj + end), Facts,
		func(m []string) string { return "pet:" + normalize(m[1]) }, func(m []string) string { return "has a " + strings.ToLower(m[1]) + " named " + trimObj(m[2]) }},

	{re(`my (wife|husband|partner|boyfriend|girlfriend|fiance|fiancee|sister|brother|mother|mom|mum|father|dad|son|daughter|best friend|friend|boss|roommate|cousin|grandmother|grandma|grandfather|grandpa)(?:'s name)? (?:is named |is called |is |named |called )?(?-i:([A-Z][a-zA-Z'-]+(?: [A-Z][a-zA-Z'-]+)?))`), Relationships,
		func(m []string) string { return "rel:" + strings.ToLower(m[1]) + ":" + normalize(m[2]) }, func(m []string) string { return strings.ToLower(m[1]) + ": " + m[2] }},
	{re(`i (?:have|'ve got|have got) (a|an|one|two|three|four|five|\d) (kids?|children|child|sons?|daughters?|siblings?|brothers?|sisters?)` + end), Relationships,
		func(m []string) string { return "family:" + normalize(m[2]) }, func(m []string) string { return "has " + strings.ToLower(m[1]+" "+m[2]) }},
	{re(`i (?:got married|married|am married|'m married|m married)(?: to)? ?` + `([^.,;:!?()]{0,40}?)` + end), Relationships,
		func(m []string) string { return "rel:spouse" }, func(m []string) string { return strings.TrimSpace("married " + trimObj(m[1])) }},
	{re(`i (?:broke up with|divorced|split up with|separated from) ` + obj + end), Relationships,
		func(m []string) string { return "rel:spouse" }, func(m []string) string { return "separated from " + trimObj(m[1]) }},

	{re(`i (?:no longer|don't|do not|dont) (?:want|plan|intend|hope) to ` + obj + end), Goals,
		func(m []string) string { return "goal:" + goalKey(m[1]) }, func(m []string) string { return "no longer plans to " + trimObj(m[1]) }},
	{re(`i(?:'ve| have)? (?:decided|chose) not to ` + obj + end), Goals,
		func(m []string) string { return "goal:" + goalKey(m[1]) }, func(m []string) string { return "decided not to " + trimObj(m[1]) }},
	{re(`(?:i (?:want|plan|intend|hope|aim|am planning|'m planning|m planning|am going|'m going|m going|would like|'d like|have decided|decided)|my goal is|my plan is|i'm hoping) to ` + obj + end), Goals,
		func(m []string) string { return "goal:" + goalKey(m[1]) }, func(m []string) string { return "plans to " + trimObj(m[1]) }},

	{re(`(?:please )?(?:be|keep (?:it|answers|your answers|replies)) (brief|short|concise|detailed|thorough|simple)` + end), Style,
		func(m []string) string { return "style:length" }, func(m []string) string { return "wants " + strings.ToLower(m[1]) + " answers" }},
	{re(`i (?:prefer|like|want) (short|brief|concise|long|detailed|simple|bullet[- ]point) (?:answers|responses|replies|explanations)` + end), Style,
		func(m []string) string { return "style:length" }, func(m []string) string { return "wants " + strings.ToLower(m[1]) + " answers" }},
	{re(`(?:please )?call me ` + obj + end), Style,
		func(m []string) string { return "style:name" }, func(m []string) string { return "call them " + trimObj(m[1]) }},
	{re(`(?:please )?(?:answer|reply|respond|talk to me|write) in ([A-Z][a-z]+)` + end), Style,
		func(m []string) string { return "style:language" }, func(m []string) string { return "answer in " + m[1] }},
}

// contractions are expanded so one pattern covers "I'm" and "I am".
var contractions = strings.NewReplacer("I'm ", "I am ", "i'm ", "i am ", "Im ", "I am ", "I've ", "I have ", "i've ", "i have ",
	"I'd ", "I would ", "i'd ", "i would ")

func verb3(v string) string {
	switch strings.ToLower(v) {
	case "love":
		return "loves"
	case "enjoy":
		return "enjoys"
	case "adore":
		return "adores"
	}
	return "likes"
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return s
	}
	return f[0]
}

// trimObj cleans an object phrase: no trailing time words, at most eight words.
func trimObj(s string) string {
	f := strings.Fields(s)
	for len(f) > 0 {
		last := strings.ToLower(f[len(f)-1])
		if tailWords[last] {
			f = f[:len(f)-1]
			continue
		}
		break
	}
	// "a lot", "so much", "these days"
	for len(f) >= 2 {
		tail := strings.ToLower(f[len(f)-2] + " " + f[len(f)-1])
		if tail == "a lot" || tail == "so much" || tail == "very much" || tail == "these days" || tail == "any more" {
			f = f[:len(f)-2]
			continue
		}
		break
	}
	if len(f) > 8 {
		f = f[:8]
	}
	return clip(sanitize(strings.Join(f, " ")), maxTextBytes)
}

var tailWords = map[string]bool{"anymore": true, "now": true, "too": true, "again": true, "actually": true, "though": true, "lately": true, "today": true, "already": true, "instead": true}

// preferKey keys "tea over coffee" and "tea to coffee" by the pair, so a
// later "coffee over tea" supersedes it.
func preferKey(s string) string {
	o := trimObj(s)
	for _, sep := range []string{" over ", " to ", " than ", " rather than "} {
		if a, b, ok := strings.Cut(strings.ToLower(o), sep); ok {
			x, y := normalize(a), normalize(b)
			if x > y {
				x, y = y, x
			}
			return x + "|" + y
		}
	}
	return normalize(o)
}

// goalKey is the first three words of a goal, so "learn Japanese" and
// "learn Japanese this year" are one goal.
func goalKey(s string) string {
	f := strings.Fields(normalize(trimObj(s)))
	if len(f) > 3 {
		f = f[:3]
	}
	return strings.Join(f, " ")
}

// Extract implements Extractor.
func (Rules) Extract(ctx context.Context, turns []Turn) ([]Item, error) {
	if len(turns) > MaxTurns {
		return nil, fmt.Errorf("%w: %d turns (limit %d)", fs.ErrTooLarge, len(turns), MaxTurns)
	}
	var out []Item
	for i, t := range turns {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !isUser(t.Role) {
			continue
		}
		text := t.Content
		if len(text) > MaxTurnBytes {
			text = clip(text, MaxTurnBytes)
		}
		n := 0
		for _, sent := range sentences(text) {
			if strings.HasSuffix(sent, "?") || hypothetical(sent) {
				continue
			}
			for _, it := range matchSentence(sent) {
				if n >= maxItemsPerTurn {
					break
				}
				it.Source = sanitizeSource(turnID(t, i))
				it.Since = sanitizeSource(t.Time)
				out = append(out, it)
				n++
			}
		}
	}
	return out, nil
}

func isUser(role string) bool {
	r := strings.ToLower(strings.TrimSpace(role))
	return r == "" || r == "user" || r == "human"
}

func turnID(t Turn, i int) string {
	if t.ID != "" {
		return t.ID
	}
	return fmt.Sprintf("t%d", i+1)
}

func hypothetical(s string) bool {
	l := " " + strings.ToLower(s)
	for _, w := range []string{" if i ", " would i ", " i wonder", " i used to ", " do i ", " should i ", " my friend ", " he ", " she ", " they "} {
		if strings.Contains(l, w) && !strings.HasPrefix(strings.TrimSpace(l), "i ") {
			return true
		}
	}
	return strings.Contains(l, " if i ") || strings.Contains(l, " i used to ")
}

func sentences(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.', '!', '?', '\n', ';':
			if seg := strings.TrimSpace(s[start : i+1]); seg != "" {
				out = append(out, seg)
			}
			start = i + 1
		}
	}
	if seg := strings.TrimSpace(s[start:]); seg != "" {
		out = append(out, seg)
	}
	return out
}

// matchSentence applies the rules; spans matched by an earlier rule are
// not matched again, so "I don't like X" is not also "I like X".
func matchSentence(s string) []Item {
	s = contractions.Replace(strings.ReplaceAll(s, "’", "'"))
	var out []Item
	var taken [][2]int
	for _, r := range rules {
		for _, m := range r.re.FindAllStringSubmatchIndex(s, 4) {
			// The span ends with the last group: the clause word that ended
			// the object ("and I") may start the next statement.
			spanEnd := m[0]
			for g := 2; g < len(m); g += 2 {
				spanEnd = max(spanEnd, m[g+1])
			}
			overlap := false
			for _, t := range taken {
				if m[0] < t[1] && t[0] < spanEnd {
					overlap = true
				}
			}
			if overlap {
				continue
			}
			groups := make([]string, len(m)/2)
			for g := range groups {
				if m[2*g] >= 0 {
					groups[g] = s[m[2*g]:m[2*g+1]]
				}
			}
			key, text := r.key(groups), r.text(groups)
			if strings.HasSuffix(key, ":") || strings.TrimSpace(text) == "" || pronounObject(groups) || clauseObject(r.section, groups) {
				continue
			}
			taken = append(taken, [2]int{m[0], spanEnd})
			out = append(out, Item{Section: r.section, Key: clip(sanitize(key), 100), Text: clip(sanitize(text), maxTextBytes)})
		}
	}
	return out
}

// pronounObject rejects "I like it", "I love that": they name nothing.
func pronounObject(groups []string) bool {
	last := strings.ToLower(strings.TrimSpace(groups[len(groups)-1]))
	switch last {
	case "it", "that", "this", "them", "those", "these", "you", "him", "her", "one", "so", "":
		return len(groups) > 1 && last != "" || last == "it"
	}
	return false
}

// clauseObject rejects objects that are clauses or remarks about the other
// party ("I love that you chose pottery", "I plan to tell you"), and goals
// that are not actions ("I'm going to a conference" is a plan, but "plans
// to a conference" is not English).
func clauseObject(section string, groups []string) bool {
	obj := strings.ToLower(strings.TrimSpace(groups[len(groups)-1]))
	first, rest, _ := strings.Cut(obj, " ")
	if obj == "to" || obj == "" && section != Facts && section != Relationships {
		return true
	}
	switch first {
	case "that", "how", "what", "when", "where", "why", "who", "which", "you", "your", "yours", "it's", "its", "this", "those", "these", "them", "him", "her", "hearing", "seeing", "talking":
		return true
	}
	if section == Goals {
		switch first {
		case "a", "an", "the", "my", "be", "do", "tell", "say", "ask", "see", "check", "let", "go":
			return first != "go" || rest == ""
		}
	}
	return false
}
