package inference

import "testing"

func TestTemplates(t *testing.T) {
	msgs := []Message{{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello."}, {"user", "Bye"}}
	for _, c := range []struct {
		meta, arch, name, want string
	}{
		{"{% for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}", "llama", "llama2",
			"[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello. </s><s>[INST] Bye [/INST]"},
		{"{{ '<|start_header_id|>' + role }}", "llama", "llama3",
			"<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>" +
				"<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>" +
				"<|start_header_id|>assistant<|end_header_id|>\n\n"},
		{"{{'<|im_start|>' + message['role']}}", "llama", "chatml",
			"<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n" +
				"<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n"},
		{"", "qwen2", "chatml", ""},
		{"", "llama", "plain", "System: Be brief.\nUser: Hi\nAssistant: Hello.\nUser: Bye\nAssistant:"},
	} {
		tpl := TemplateFor(c.meta, c.arch)
		if tpl.Name != c.name {
			t.Errorf("TemplateFor(%q, %q) = %s, want %s", c.meta, c.arch, tpl.Name, c.name)
			continue
		}
		if c.want == "" {
			continue
		}
		if got := tpl.Render(msgs); got != c.want {
			t.Errorf("%s render:\n got %q\nwant %q", c.name, got, c.want)
		}
		if byName, ok := TemplateByName(c.name); !ok || byName.Name != c.name {
			t.Errorf("TemplateByName(%s) = %v, %v", c.name, byName, ok)
		}
	}
}
