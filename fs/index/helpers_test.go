package index_test

import (
	"cmp"
	"errors"
	"strings"

	"github.com/ctxfs/ctxfs/fs"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func compare(a, b fs.Path) int { return cmp.Compare(a, b) }

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
