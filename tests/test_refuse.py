"""The refusal gate's question-type checks on hand-made cases."""

from rag.refuse import required_type, satisfies
from rag.text import content_stems, quantity_near


def test_question_types():
    assert required_type("How many troops were deployed?") == "quantity"
    assert required_type("When did the ceasefire start?") == "time"
    assert required_type("On which day were the elections held?") == "time"
    assert required_type("Which agreement did Baghdad invoke when urging Washington?") is None
    assert required_type("Who leads the group?") is None


def test_a_quantity_must_count_what_was_asked():
    stems = set(content_stems("How many Israeli missiles fell in Dhi Qar?"))
    assert quantity_near("two Israeli missiles fell on the outskirts", stems)
    assert not quantity_near("The strike on January 4, 2024 hit a headquarters.", stems)
    staff = set(content_stems("How many embassy staff were evacuated?"))
    assert not satisfies("quantity", "two Israeli missiles fell on the outskirts of Dhi Qar", staff)
    assert satisfies("quantity", "Hundreds of drones were launched", set(content_stems("How many drones were launched?")))


def test_time_words_count_with_a_possessive():
    assert satisfies("time", "attacks following Monday's local elections")
    assert satisfies("time", "in December 2023")
    assert not satisfies("time", "the embassy in Baghdad")
