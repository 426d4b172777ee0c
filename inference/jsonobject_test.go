package inference

import (
	"errors"
	"testing"
)

func TestJSONObject(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"a":1}`, `{"a":1}`},
		{"Sure! ```json\n{\"a\":{\"b\":\"}\"}}\n``` done", `{"a":{"b":"}"}}`},
		{`x {"s":"a\"{"} y {"z":2}`, `{"s":"a\"{"}`},
	} {
		got, err := JSONObject(tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("JSONObject(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "no json", `{"a":1`, `{"a":"}`} {
		if _, err := JSONObject(bad); !errors.Is(err, ErrNoJSON) {
			t.Errorf("JSONObject(%q) error %v, want ErrNoJSON", bad, err)
		}
	}
}
