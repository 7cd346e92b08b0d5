"""The language models behind the draft: `generate` (llama.cpp in-process, or an OpenAI-compatible
endpoint) and `model_file` (the packaged GGUF, reassembled and checked)."""
