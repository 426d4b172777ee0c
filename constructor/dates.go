package constructor

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var months = map[string]time.Month{
	"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
	"may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
	"september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}

var (
	reISODate = regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})`)
	reDMY     = regexp.MustCompile(`(?i)\b(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3,9})\.?,?\s+(\d{4})\b`)
	reMDY     = regexp.MustCompile(`(?i)\b([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b`)
)

// parseDate finds the first calendar date in s ("8 May, 2023", "May 8,
// 2023", "2023-05-08"); ok is false if there is none.
func parseDate(s string) (time.Time, bool) {
	if m := reISODate.FindStringSubmatch(s); m != nil {
		if t, err := time.Parse("2006-01-02", m[0]); err == nil {
			return t, true
		}
	}
	if m := reDMY.FindStringSubmatch(s); m != nil {
		if mo, ok := months[strings.ToLower(m[2])]; ok {
			d, _ := strconv.Atoi(m[1])
			y, _ := strconv.Atoi(m[3])
			if d >= 1 && d <= 31 {
				return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC), true
			}
		}
	}
	if m := reMDY.FindStringSubmatch(s); m != nil {
		if mo, ok := months[strings.ToLower(m[1])]; ok {
			d, _ := strconv.Atoi(m[2])
			y, _ := strconv.Atoi(m[3])
			if d >= 1 && d <= 31 {
				return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC), true
			}
		}
	}
	return time.Time{}, false
}

func day(t time.Time) string { return t.Format("2 January 2006") }

var weekdays = map[string]time.Weekday{
	"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6,
}

var numberWords = map[string]int{"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
	"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "a couple of": 2, "a few": 3, "couple of": 2, "few": 3}

var reRelative = regexp.MustCompile(`(?i)\b(yesterday|today|tonight|tomorrow|last night|this morning|` +
	`(?:last|this past|past|next|this) (?:week(?:end)?|month|year|sunday|monday|tuesday|wednesday|thursday|friday|saturday)|` +
	`(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a couple of|a few) (day|week|month|year)s? ago)\b`)

// anchor annotates the relative time expressions of s with the absolute
// date they mean when said on date at: "last Saturday" in a session of
// Monday 8 May 2023 becomes "last Saturday (6 May 2023)". A zero at
// leaves s as it is.
func anchor(s string, at time.Time) string {
	if at.IsZero() {
		return s
	}
	locs := reRelative.FindAllStringSubmatchIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, l := range locs {
		expr := strings.ToLower(s[l[0]:l[1]])
		abs := resolve(expr, s, l, at)
		b.WriteString(s[last:l[1]])
		if abs != "" {
			fmt.Fprintf(&b, " (%s)", abs)
		}
		last = l[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

func resolve(expr, s string, l []int, at time.Time) string {
	switch expr {
	case "yesterday", "last night":
		return day(at.AddDate(0, 0, -1))
	case "today", "tonight", "this morning":
		return day(at)
	case "tomorrow":
		return day(at.AddDate(0, 0, 1))
	}
	if l[4] >= 0 { // N units ago
		nw := strings.ToLower(s[l[4]:l[5]])
		n, err := strconv.Atoi(nw)
		if err != nil {
			n = numberWords[nw]
		}
		approx := ""
		if strings.Contains(nw, "few") || strings.Contains(nw, "couple") {
			approx = "about "
		}
		switch strings.ToLower(s[l[6]:l[7]]) {
		case "day":
			return approx + day(at.AddDate(0, 0, -n))
		case "week":
			return approx + "week of " + day(at.AddDate(0, 0, -7*n))
		case "month":
			return approx + at.AddDate(0, -n, 0).Format("January 2006")
		case "year":
			return approx + strconv.Itoa(at.Year()-n)
		}
		return ""
	}
	f := strings.Fields(expr)
	rel, unit := strings.Join(f[:len(f)-1], " "), f[len(f)-1]
	dir := 0
	switch rel {
	case "last", "this past", "past":
		dir = -1
	case "next":
		dir = 1
	}
	if wd, ok := weekdays[unit]; ok {
		d := int(wd - at.Weekday())
		switch {
		case dir < 0:
			if d >= 0 {
				d -= 7
			}
		case dir > 0:
			if d <= 0 {
				d += 7
			}
		}
		return day(at.AddDate(0, 0, d))
	}
	switch unit {
	case "week":
		return "week of " + day(at.AddDate(0, 0, 7*dir))
	case "weekend":
		// The weekend before (or after) the day it was said.
		d := int(time.Saturday - at.Weekday())
		if dir < 0 && d >= 0 {
			d -= 7
		}
		if dir > 0 && d <= 0 {
			d += 7
		}
		return "weekend of " + day(at.AddDate(0, 0, d))
	case "month":
		return at.AddDate(0, dir, 0).Format("January 2006")
	case "year":
		return strconv.Itoa(at.Year() + dir)
	}
	return ""
}
