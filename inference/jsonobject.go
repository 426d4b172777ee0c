package inference

import (
	"errors"
	"strings"
)

// ErrNoJSON is wrapped by the error of JSONObject when a model's answer
// holds no complete JSON object.
var ErrNoJSON = errors.New("no JSON object in the model's answer")

// JSONObject returns the first balanced JSON object in a model's answer:
// models asked for strict JSON still wrap it in prose or code fences. It
// only finds the object's bounds (braces outside strings); the caller
// decodes and validates it.
func JSONObject(s string) ([]byte, error) {
	start := strings.IndexByte(s, '{')
	if start < 0 {
		return nil, ErrNoJSON
	}
	depth, inStr, esc := 0, false, false
	for i := start; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return []byte(s[start : i+1]), nil
			}
		}
	}
	return nil, errors.Join(ErrNoJSON, errors.New("the object is not terminated"))
}
