package tokenizer_test

import (
	"fmt"

	"github.com/ctxfs/ctxfs/inference/tokenizer"
)

// Count tokens the way OpenAI's GPT-4 models do, offline.
func ExampleCL100K() {
	tok, err := tokenizer.CL100K()
	if err != nil {
		panic(err)
	}
	ids := tok.Encode("Hello, world!", tokenizer.EncodeOptions{})
	fmt.Println(ids, tok.Count("Hello, world!"), tok.Decode(ids))
	// Output: [9906 11 1917 0] 4 Hello, world!
}
