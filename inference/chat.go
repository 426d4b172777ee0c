package inference

import (
	"strings"
)

// ChatTemplate renders chat messages into a prompt for one model family.
type ChatTemplate struct {
	// Name is "llama2", "llama3", "chatml" or "plain".
	Name string
	// Stops are strings that end an assistant turn besides the end-of-sequence token.
	Stops []string
}

// Chat templates.
var (
	Llama2Template = ChatTemplate{Name: "llama2"}
	Llama3Template = ChatTemplate{Name: "llama3", Stops: []string{"<|eot_id|>"}}
	ChatMLTemplate = ChatTemplate{Name: "chatml", Stops: []string{"<|im_end|>"}}
	PlainTemplate  = ChatTemplate{Name: "plain", Stops: []string{"\nUser:"}}
)

// TemplateFor picks a chat template from a model's tokenizer.chat_template metadata
// (a Jinja template, recognized by its markers, not executed) and architecture; it
// falls back to a plain "Role: text" format.
func TemplateFor(chatTemplate, arch string) ChatTemplate {
	switch {
	case strings.Contains(chatTemplate, "<|start_header_id|>"):
		return Llama3Template
	case strings.Contains(chatTemplate, "<|im_start|>"):
		return ChatMLTemplate
	case strings.Contains(chatTemplate, "[INST]"):
		return Llama2Template
	case chatTemplate == "" && (arch == "qwen2" || arch == "qwen3"):
		return ChatMLTemplate
	}
	return PlainTemplate
}

// TemplateByName returns the named template, or false.
func TemplateByName(name string) (ChatTemplate, bool) {
	for _, t := range []ChatTemplate{Llama2Template, Llama3Template, ChatMLTemplate, PlainTemplate} {
		if t.Name == name {
			return t, true
		}
	}
	return ChatTemplate{}, false
}

// Render returns the prompt text for msgs, ending where the assistant's reply begins.
// The text does not include the BOS token, which the caller adds when encoding, and
// its special-token markers must be encoded with special-token parsing on.
func (t ChatTemplate) Render(msgs []Message) string {
	var b strings.Builder
	switch t.Name {
	case "llama2":
		// <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s><s>[INST] ...
		var sys string
		first := true
		for _, m := range msgs {
			switch m.Role {
			case "system":
				sys = m.Content
			case "user":
				if !first {
					b.WriteString("<s>")
				}
				first = false
				b.WriteString("[INST] ")
				if sys != "" {
					b.WriteString("<<SYS>>\n" + sys + "\n<</SYS>>\n\n")
					sys = ""
				}
				b.WriteString(strings.TrimSpace(m.Content) + " [/INST]")
			case "assistant":
				b.WriteString(" " + strings.TrimSpace(m.Content) + " </s>")
			}
		}
	case "llama3":
		for _, m := range msgs {
			b.WriteString("<|start_header_id|>" + m.Role + "<|end_header_id|>\n\n" + strings.TrimSpace(m.Content) + "<|eot_id|>")
		}
		b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
	case "chatml":
		for _, m := range msgs {
			b.WriteString("<|im_start|>" + m.Role + "\n" + m.Content + "<|im_end|>\n")
		}
		b.WriteString("<|im_start|>assistant\n")
	default:
		for _, m := range msgs {
			role := m.Role
			if role != "" {
				role = strings.ToUpper(role[:1]) + role[1:]
			}
			b.WriteString(role + ": " + m.Content + "\n")
		}
		b.WriteString("Assistant:")
	}
	return b.String()
}
