"""Stage 1, the question: read and checked (`read`, the stage's entry), what kind of answer it asks for
(`kind`), what relation it asks about (`focus`), and, in a conversation, whether it leans on earlier turns
(its grammar) and the question made to stand alone (`follow_up`)."""
