"""Query side: hybrid retrieval, answers with verified span-exact citations, chat, evaluation."""
