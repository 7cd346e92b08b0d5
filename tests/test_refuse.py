"""The expected-answer-type checks behind refusal, on hand-made cases (real spaCy pipeline)."""

from rag.evidence.offers import offers
from rag.question.focus import focus
from rag.question.kind import AnswerType, expected
from rag.text import content_stems, quantity_near


def new_answers(kind: str | None, text: str, question: str) -> set[str]:
    """What `text` offers as an answer of `kind` to `question`."""
    return offers(kind, text, focus(question, kind))


def test_question_types():
    assert expected("How many troops were deployed?").kind == "quantity"
    assert expected("When did the ceasefire start?").kind == "time"
    assert expected("On which day were the elections held?").kind == "time"
    assert expected("On what date did the ceasefire take effect?").kind == "date"
    assert expected("Who leads the group?").kind == "person"
    assert expected("Which Israeli foreign minister wrote to the UN?").kind == "person"
    assert expected("Which official news agency relayed the statement?").kind == "group"
    assert expected("In which southern Iraqi governorate did two missiles fall?") == AnswerType("place", 1)
    assert expected("Name the two Iraqi militia leaders quoted") == AnswerType("person", 2)
    assert expected("What happened to militia drone launches after the warning?").kind is None
    assert expected("Which agreement did Baghdad invoke when urging Washington?").kind is None


def test_a_quantity_must_count_what_was_asked():
    stems = set(content_stems("How many Israeli missiles fell in Dhi Qar?"))
    assert quantity_near("two Israeli missiles fell on the outskirts", stems)
    assert not quantity_near("The strike on January 4, 2024 hit a headquarters.", stems)
    assert not new_answers("quantity", "two Israeli missiles fell on the outskirts of Dhi Qar",
                           "How many embassy staff were evacuated?")
    assert new_answers("quantity", "Hundreds of drones were launched", "How many drones were launched?")


def test_time_words_count_with_a_possessive():
    assert new_answers("time", "attacks following Monday's local elections", "When were the attacks?")
    assert new_answers("time", "in December 2023", "When?")
    assert not new_answers("time", "the embassy in Baghdad", "When?")
    assert not new_answers("date", "sources said on Thursday", "On what date did it start?")


def test_an_answer_must_name_someone_the_question_does_not():
    question = "What is the name of the senior Iraqi security official who spoke to Al-Araby Al-Jadeed?"
    assert expected(question).kind == "person"
    assert not new_answers("person", "A senior Iraqi security official told Al-Araby Al-Jadeed that directives "
                                     "were issued.", question)
    assert new_answers("person", "Foreign Minister Fuad Hussein's diplomatic maneuvers continue.",
                       "Who is Iraq's foreign minister?") >= {"Fuad Hussein"}


def test_attributive_names_are_not_answers():
    assert not new_answers("place", "an official told the London-based newspaper", "Which country is it?")


def test_a_title_before_a_name_is_not_a_new_person():
    question = "Who is the president of the UN Security Council to whom Gideon Sa'ar wrote?"
    assert not new_answers("person", "Israeli Foreign Minister Gideon Sa'ar sent a letter to the president of the "
                                     "UN Security Council.", question)
    assert new_answers("person", "the prime minister specifically supervises this issue",
                       "Who did he say supervises that issue?") == {"minister"}


def test_how_many_counts_the_head_of_the_phrase():
    question = "How many drone attacks have Iraqi militias launched against Israel?"
    assert expected(question).kind == "quantity"
    assert not new_answers("quantity", "Iran retaliated by launching hundreds of drones at Israel.", question)
    assert new_answers("quantity", "Militias have launched more than 60 attacks on Israel.", question)
    assert new_answers("quantity", "Iran launched hundreds of drones and ballistic missiles.",
                       "Roughly how many drones and ballistic missiles did Iran launch?")


def test_what_kind_of_needs_a_new_variety_of_the_noun():
    question = "What type of Israeli missiles fell on the outskirts of Dhi Qar?"
    assert expected(question).kind == "variety"
    assert not new_answers("variety", "Two Israeli missiles fell on the outskirts of Dhi Qar.", question)
    assert new_answers("variety", "Iran fired hundreds of drones and ballistic missiles.", question) >= {"ballistic"}
    assert new_answers("variety", "Militias launched repeated rocket and drone strikes on bases.",
                       "What kind of strikes have militias launched?") >= {"rocket", "drone"}
    # the noun itself is paraphrased away: the check does not apply
    assert new_answers("variety", "He offered all forms of necessary assistance.", "What kind of help did he offer?")


def test_a_reaction_must_be_the_party_s_own():
    question = "How did the UN Security Council respond to Gideon Sa'ar's letter?"
    assert expected(question).kind == "reaction"
    assert not new_answers("reaction", "Gideon Sa'ar sent a letter to the president of the UN Security Council.",
                           question)
    assert new_answers("reaction", "The Security Council condemned the attacks in a statement.", question)
    assert new_answers("reaction", "Iranian forces retaliated with missiles.", "How did Iran react to the strikes?")
    assert new_answers("reaction", "The strikes were condemned by Iraq's government.",
                       "What was Iraq's reaction to the strikes?")


def test_a_question_naming_a_role_wants_a_name():
    question = "Who is Iraq's foreign minister, according to the report?"
    assert not new_answers("person", "Iraq is taking diplomatic actions, Iraqi official tells Qatari newspaper",
                           question)
    assert new_answers("person", "Foreign Minister Fuad Hussein said the talks continue.", question) == {"Fuad Hussein"}


def test_an_invented_number_is_unsupported_and_a_spelled_one_is_not():
    from rag.support import cheap_verdict

    source = ["The latest developments come after two Israeli missiles fell on the outskirts of Dhi Qar governorate."]
    assert cheap_verdict("12 missiles fell on the outskirts of Dhi Qar governorate.", source)[0] == "unsupported"
    assert cheap_verdict("2 Israeli missiles fell on the outskirts of Dhi Qar governorate.", source)[0] == "supported"
