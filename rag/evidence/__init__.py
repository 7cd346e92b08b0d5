"""Stage 2, the evidence: passages retrieved (`retrieve`), their sentences with exact spans
(`sentences`), planted text held back (`planted`), ranked as answers (`rank`, with `offers`: what a
sentence offers as an answer of the kind asked for), and the gate that decides whether they can
answer at all (`gate`); `gather` does them in turn for one question."""
