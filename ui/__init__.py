"""Gradio chat UI over the cited-answer pipeline."""
