"""Ingest side: load article files, clean them, chunk them with offsets, embed, store in Chroma.

Nothing here imports `rag` or `ui`; the query side builds on these modules.
"""
