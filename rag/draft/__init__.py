"""Stage 3, the draft: the answer text, composed from source sentences (`extractive`) or written by
a model from what `prompting` shows it."""
