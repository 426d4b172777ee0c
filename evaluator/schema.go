package evaluator

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/ctxfs/ctxfs/fs"
)

// validateJSON checks doc against a JSON schema. It supports the keywords
// models' structured outputs use: type (one or a list), properties,
// required, additionalProperties (false or a schema), items, enum, const,
// minimum, maximum, minLength, maxLength, minItems, maxItems. A schema
// that is not JSON is an error; a document that is not JSON is invalid.
func validateJSON(doc, schema []byte) (bool, []string, error) {
	var s any
	if err := json.Unmarshal(schema, &s); err != nil {
		return false, nil, fmt.Errorf("%w: schema is not JSON: %v", fs.ErrInvalid, err)
	}
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return false, []string{"not JSON: " + err.Error()}, nil
	}
	var errs []string
	check(v, s, "$", &errs)
	return len(errs) == 0, errs, nil
}

func typeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

func typeMatches(v any, want string) bool {
	got := typeOf(v)
	return got == want || want == "number" && got == "integer"
}

func check(v, schema any, at string, errs *[]string) {
	s, ok := schema.(map[string]any)
	if !ok {
		if b, isBool := schema.(bool); isBool && !b {
			*errs = append(*errs, at+": not allowed")
		}
		return
	}
	fail := func(format string, args ...any) { *errs = append(*errs, at+": "+fmt.Sprintf(format, args...)) }
	switch t := s["type"].(type) {
	case string:
		if !typeMatches(v, t) {
			fail("want %s, got %s", t, typeOf(v))
			return
		}
	case []any:
		okAny := false
		for _, x := range t {
			if ts, ok := x.(string); ok && typeMatches(v, ts) {
				okAny = true
			}
		}
		if !okAny {
			fail("want one of %v, got %s", t, typeOf(v))
			return
		}
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if equalJSON(e, v) {
				found = true
			}
		}
		if !found {
			fail("not one of %v", enum)
		}
	}
	if c, ok := s["const"]; ok && !equalJSON(c, v) {
		fail("want %v", c)
	}
	switch x := v.(type) {
	case float64:
		if m, ok := s["minimum"].(float64); ok && x < m {
			fail("%v below minimum %v", x, m)
		}
		if m, ok := s["maximum"].(float64); ok && x > m {
			fail("%v above maximum %v", x, m)
		}
	case string:
		n := float64(len([]rune(x)))
		if m, ok := s["minLength"].(float64); ok && n < m {
			fail("shorter than %v", m)
		}
		if m, ok := s["maxLength"].(float64); ok && n > m {
			fail("longer than %v", m)
		}
	case []any:
		if m, ok := s["minItems"].(float64); ok && float64(len(x)) < m {
			fail("fewer than %v items", m)
		}
		if m, ok := s["maxItems"].(float64); ok && float64(len(x)) > m {
			fail("more than %v items", m)
		}
		if items, ok := s["items"]; ok {
			for i, y := range x {
				check(y, items, fmt.Sprintf("%s[%d]", at, i), errs)
			}
		}
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if name, ok := r.(string); ok {
					if _, has := x[name]; !has {
						fail("missing required %q", name)
					}
				}
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k]; ok {
				check(x[k], ps, at+"."+k, errs)
				continue
			}
			if ap, ok := s["additionalProperties"]; ok {
				if b, isBool := ap.(bool); isBool && !b {
					fail("unexpected property %q", k)
				} else if !isBool {
					check(x[k], ap, at+"."+k, errs)
				}
			}
		}
	}
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
