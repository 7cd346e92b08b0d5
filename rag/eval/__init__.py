"""`rag eval`: question sets run through the assistant and scored (`evaluate`, `conversations`,
`metrics`)."""
