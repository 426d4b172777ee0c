package tokens

import "testing"

func TestDefaultCounts(t *testing.T) {
	if err := Load(); err != nil {
		t.Fatal(err)
	}
	c, _ := Default()
	// Reference counts of cl100k_base.
	for _, tt := range []struct {
		text string
		want int
	}{{"", 0}, {"hello world", 2}, {"Hello, world!", 4}} {
		if got := c.CountTokens(tt.text); got != tt.want {
			t.Errorf("CountTokens(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}
