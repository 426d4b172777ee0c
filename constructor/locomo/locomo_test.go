package locomo

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var full = flag.Bool("locomo.full", false, "run the whole LoCoMo development file and print the report")

const devFile = "../../../shared/testdata/bench/locomo/locomo-dev.json"

func loadDev(tb testing.TB) []Conversation {
	tb.Helper()
	p, _ := filepath.Abs(devFile)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("LoCoMo development file not available at %s", p)
	}
	convs, err := Load(p)
	if err != nil {
		tb.Fatal(err)
	}
	return convs
}

func TestNormalizeEvidence(t *testing.T) {
	for _, tc := range []struct {
		in       []string
		ids, bad int
	}{
		{[]string{"D1:3"}, 1, 0},
		{[]string{"D8:6; D9:17"}, 2, 0},
		{[]string{"D30:05"}, 1, 0},
		{[]string{"D:11:26"}, 1, 0},
		{[]string{"D"}, 0, 1},
	} {
		ids, bad := NormalizeEvidence(tc.in)
		if len(ids) != tc.ids || len(bad) != tc.bad {
			t.Errorf("%v: ids %v bad %v", tc.in, ids, bad)
		}
	}
	if ids, _ := NormalizeEvidence([]string{"D30:05"}); ids[0] != "D30:5" {
		t.Errorf("D30:05 -> %v", ids)
	}
}

func TestRunOneConversation(t *testing.T) {
	convs := loadDev(t)
	if !*full {
		convs = convs[:1]
		convs[0].QA = convs[0].QA[:60]
	}
	rep, err := Run(context.Background(), convs, Options{Budgets: []int{512, 1024, 2048, 4096}, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scored == 0 {
		t.Fatal("no question scored")
	}
	for _, r := range rep.Results {
		if r.MaxTokens > r.Budget {
			t.Errorf("%s@%d: %d tokens over budget", r.Method, r.Budget, r.MaxTokens)
		}
		if r.Recall <= 0 || r.Recall > 1 {
			t.Errorf("%s@%d: recall %v", r.Method, r.Budget, r.Recall)
		}
	}
	if *full {
		b, _ := json.MarshalIndent(rep, "", " ")
		t.Logf("%s", b)
	}
}
