"""Stage 2, the evidence: passages retrieved (`retrieve`), their sentences with exact spans
(`sentences`), ranked as answers to the question (`rank`), and the gate that decides whether they
can answer at all (`gate`)."""
