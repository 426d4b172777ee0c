// Package inference is how the rest of ctxfs runs a language model: the [Generator]
// interface, a local [Engine] that runs a GGUF model on this machine (packages llama,
// kv, sample, tokenizer and gguf below), and chat templates. Package openai adds a client
// for any OpenAI-compatible server (vLLM, SGLang, llama.cpp's server, Ollama) that is
// also a Generator, and an OpenAI-compatible HTTP handler over any Generator.
//
// # Requests
//
// A [Request] carries either a raw Prompt (encoded with BOS, special-token text not
// parsed) or chat Messages (rendered with the model's chat template). Temperature 0 is
// greedy decoding, so the zero Request is deterministic. OnToken streams the text of
// each token as it is produced, with stop strings already held back.
package inference
