package mcp

import (
	"encoding/json"
	"math"

	"github.com/ctxfs/ctxfs/fs"
)

// Args are the arguments of one tool call. The getters check types
// strictly and return fs.ErrInvalid errors that name the argument, so a
// model that sends {"startLine":"2"} learns what to fix.
type Args map[string]any

// Has reports whether name was given (a JSON null counts as absent).
func (a Args) Has(name string) bool {
	v, ok := a[name]
	return ok && v != nil
}

// String returns the string argument name; a missing one is an error.
func (a Args) String(name string) (string, error) {
	if !a.Has(name) {
		return "", invalidf("argument %q is required", name)
	}
	return a.OptString(name, "")
}

// OptString returns the string argument name, or def when it is absent.
func (a Args) OptString(name, def string) (string, error) {
	if !a.Has(name) {
		return def, nil
	}
	s, ok := a[name].(string)
	if !ok {
		return "", invalidf("argument %q must be a string, not %s", name, jsonType(a[name]))
	}
	return s, nil
}

// Path returns argument name parsed as a ctxfs path.
func (a Args) Path(name string) (fs.Path, error) {
	s, err := a.String(name)
	if err != nil {
		return "", err
	}
	return parsePath(name, s)
}

// OptPath returns argument name parsed as a path, or def when absent.
func (a Args) OptPath(name string, def fs.Path) (fs.Path, error) {
	if !a.Has(name) {
		return def, nil
	}
	return a.Path(name)
}

func parsePath(name, s string) (fs.Path, error) {
	p, err := fs.Parse(s)
	if err != nil {
		return "", invalidf("argument %q: %v", name, err)
	}
	return p, nil
}

// OptInt returns the integer argument name, or def when it is absent. JSON
// numbers with a fractional part are refused.
func (a Args) OptInt(name string, def int64) (int64, error) {
	if !a.Has(name) {
		return def, nil
	}
	var f float64
	switch v := a[name].(type) {
	case float64:
		f = v
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			return 0, invalidf("argument %q must be an integer, not %s", name, v)
		}
		return n, nil
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	default:
		return 0, invalidf("argument %q must be an integer, not %s", name, jsonType(v))
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, invalidf("argument %q must be an integer, not %v", name, f)
	}
	return int64(f), nil
}

// OptBool returns the boolean argument name, or def when it is absent.
func (a Args) OptBool(name string, def bool) (bool, error) {
	if !a.Has(name) {
		return def, nil
	}
	b, ok := a[name].(bool)
	if !ok {
		return false, invalidf("argument %q must be a boolean, not %s", name, jsonType(a[name]))
	}
	return b, nil
}

// Decode decodes argument name (any JSON value) into v, which must be a
// pointer; absent arguments leave v as it is.
func (a Args) Decode(name string, v any) error {
	if !a.Has(name) {
		return nil
	}
	b, err := json.Marshal(a[name])
	if err != nil {
		return invalidf("argument %q: %v", name, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return invalidf("argument %q has the wrong shape: %v", name, err)
	}
	return nil
}

// jsonType names the JSON type of a decoded value, for error messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, json.Number, int, int64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "an unknown type"
}
