"""The reader: a cross-encoder the project trains itself, scoring (question, sentence) pairs with the
probability that the sentence states the answer.

- `rag.reader.model`: the input format and the network, shared by training and answering.
- `rag.reader.data`: SQuAD-format question sets turned into (question, sentence, label) pairs, split by article.
- `rag.reader.train`: `rag train-reader`, the reproducible training run that writes the committed weights.
- `rag.reader.score`: the trained reader as the product loads it (offline, SHA-256 checked).
- `rag.reader.validate`: the validation figures of a trained reader (for its model card).
"""
