// Package openai speaks the OpenAI HTTP API for text generation, in both directions:
// [Client] is an inference.Generator backed by any OpenAI-compatible server (vLLM,
// SGLang, llama.cpp's server, Ollama, or ctxfs itself), and [NewHandler] serves
// /v1/models, /v1/completions and /v1/chat/completions (with SSE streaming) over any
// inference.Generator.
//
// # Errors
//
// The handler maps errors in one place (statusOf): a request it cannot parse or that
// wraps inference.ErrInvalid is 400, a body over MaxBodyBytes is 413, an unknown path
// 404, a wrong method 405, and anything else 500; the body is the OpenAI error object
// {"error":{"message","type"}}. The client turns such responses into *APIError, which
// wraps inference.ErrInvalid for 400s.
package openai
