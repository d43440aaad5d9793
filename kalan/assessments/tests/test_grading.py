"""Grading: every item type, partial credit, numbers written the French way, Bambara and Tajik."""

import unicodedata
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kalan.assessments.grading import (
    Grade,
    GradeStatus,
    InvalidResponse,
    grade,
    normalise_text,
    parse_number,
    text_accepted,
)
from kalan.content.exercises import parse_exercise
from kalan.content.exercises.model import Item, NumericAnswer, NumericItem


def make(**fields) -> Item:
    data = {"id": "q", "prompt": "<p>?</p>", **fields}
    return parse_exercise({"title": "T", "items": [data]}).items[0]


CHOICE = make(
    type="single_choice",
    choices=[{"id": "a", "text": "2", "feedback": "One more."}, {"id": "b", "text": "3"}],
    correct="b",
    feedback={"correct": "<p>Bravo</p>", "incorrect": "<p>Encore</p>"},
)


def multiple(partial: bool) -> Item:
    return make(
        type="multiple_choice",
        choices=[{"id": c, "text": c, "feedback": f"about {c}"} for c in "abcde"],
        correct=["a", "b", "c"],
        partial_credit=partial,
    )


def test_single_choice_with_the_feedback_of_the_choice_then_the_item():
    assert grade(CHOICE, "b") == Grade(GradeStatus.CORRECT, 1.0, ("<p>Bravo</p>",))
    assert grade(CHOICE, "a") == Grade(GradeStatus.INCORRECT, 0.0, ("One more.", "<p>Encore</p>"))
    assert grade(CHOICE, "z").status is GradeStatus.INCORRECT
    assert grade(CHOICE, "b").correct
    with pytest.raises(InvalidResponse, match='the response to item "q" must be text'):
        grade(CHOICE, ["b"])


@pytest.mark.parametrize(
    ("picked", "all_or_nothing", "partial"),
    [
        ({"a", "b", "c"}, 1.0, 1.0),
        ({"a", "b"}, 0.0, 2 / 3),
        ({"a", "b", "c", "d"}, 0.0, 2 / 3),
        ({"a", "d"}, 0.0, 0.0),
        ({"d", "e"}, 0.0, 0.0),
        ({"a", "d", "e"}, 0.0, 0.0),
        (set(), 0.0, 0.0),
    ],
)
def test_multiple_choice_all_or_nothing_or_right_minus_wrong(picked, all_or_nothing, partial):
    assert grade(multiple(False), picked).score == all_or_nothing
    assert grade(multiple(True), sorted(picked)).score == pytest.approx(partial)


def test_multiple_choice_status_parts_and_feedback():
    result = grade(multiple(True), ["a", "b", "d"])
    assert result.status is GradeStatus.PARTLY
    assert result.score == pytest.approx(1 / 3)
    assert result.feedback == ("about a", "about b", "about d")
    assert result.parts == (("a", True), ("b", True), ("c", False), ("d", False), ("e", True))
    with pytest.raises(InvalidResponse, match="a list of choice ids"):
        grade(multiple(True), "a")
    with pytest.raises(InvalidResponse, match="a list of choice ids"):
        grade(multiple(True), [1, 2])


def test_true_false_takes_booleans_and_form_strings():
    item = make(type="true_false", correct=False)
    assert grade(item, False).correct
    assert grade(item, "false").correct
    assert not grade(item, "true").correct
    with pytest.raises(InvalidResponse, match="true or false"):
        grade(item, "yes")


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("3,5", Decimal("3.5")),
        ("3.5", Decimal("3.5")),
        (" -0,25 ", Decimal("-0.25")),
        ("−2", Decimal("-2")),
        ("+7", Decimal("7")),
        (",5", Decimal("0.5")),
        ("5.", Decimal("5")),
        ("1 200", Decimal("1200")),
        ("1\u00a0200,75", Decimal("1200.75")),
        ("12\u202f345\u202f678", Decimal("12345678")),
        ("１２", Decimal("12")),
        ("1,000.5", None),
        ("1 20", None),
        ("3,5,1", None),
        ("1e3", None),
        ("", None),
        ("-", None),
        (".", None),
        ("trois", None),
        ("٣", None),
    ],
)
def test_learners_numbers_are_read_with_either_decimal_separator(text, number):
    assert parse_number(text) == number


def numeric(**answer) -> NumericItem:
    item = make(type="numeric", answers=[answer])
    assert isinstance(item, NumericItem)
    return item


def test_numeric_tolerances_ranges_and_several_answers():
    absolute = numeric(value=0.3, tolerance=0.1)
    assert [grade(absolute, text).correct for text in ("0,2", "0.4", "0,3", "0.41", "0,19")] == [
        True, True, True, False, False,
    ]  # fmt: skip
    relative = numeric(value=-200, tolerance_percent=5)
    assert [grade(relative, text).correct for text in ("-190", "-210", "-189", "190")] == [
        True, True, False, False,
    ]  # fmt: skip
    either = numeric(value=100, tolerance=1, tolerance_percent=2)
    assert grade(either, "102").correct
    assert not grade(either, "102,1").correct
    ranged = numeric(minimum=2, maximum=3)
    assert [grade(ranged, n).correct for n in ("2", "3", "2,5", "3.01")] == [
        True,
        True,
        True,
        False,
    ]
    both = make(type="numeric", answers=[{"value": 2}, {"value": -2}])
    assert [grade(both, text).correct for text in ("-2", "2", "0")] == [True, True, False]
    assert grade(numeric(value=4), Decimal(4)).correct
    assert grade(numeric(value=4), 4).correct
    assert grade(numeric(value=4), "quatre").status is GradeStatus.INCORRECT
    with pytest.raises(InvalidResponse, match="a number or the text the learner wrote"):
        grade(numeric(value=4), True)


numbers = st.decimals(min_value=-(10**6), max_value=10**6, places=3)
spreads = st.decimals(min_value=0, max_value=1000, places=3)


@given(value=numbers, tolerance=spreads, percent=spreads, offset=spreads)
def test_numeric_tolerance_is_symmetric(value, tolerance, percent, offset):
    item = NumericItem(
        id="q",
        prompt="?",
        answers=(NumericAnswer(value=value, tolerance=tolerance, tolerance_percent=percent),),
    )
    above = grade(item, f"{value + offset:f}".replace(".", ","))
    below = grade(item, f"{value - offset:f}")
    assert above.correct == below.correct
    assert above.correct == (offset <= max(tolerance, abs(value) * percent / 100))


# ---------------------------------------------------------------- words


def test_short_text_case_spaces_apostrophes_and_diacritics():
    plain = make(type="short_text", answers=["Bamako", "l'école"])
    assert grade(plain, "  bamako ").correct
    assert grade(plain, "L’ÉCOLE").correct
    assert not grade(plain, "l'ecole").correct
    assert not grade(plain, "").correct
    sensitive = make(type="short_text", answers=["Bamako"], case_sensitive=True)
    assert not grade(sensitive, "bamako").correct
    assert grade(sensitive, "Bamako").correct
    loose = make(type="short_text", answers=["Ségou"], ignore_diacritics=True)
    assert grade(loose, "segou").correct
    assert grade(loose, "SÉGOU").correct


def test_bambara_and_tajik_letters_are_not_diacritics():
    assert text_accepted("ɲɛnajɛ", ["ɲɛnajɛ"], False, True)
    assert not text_accepted("nenaje", ["ɲɛnajɛ"], False, True)
    assert text_accepted("Ɲɛnajɛ", ["ɲɛnajɛ"], False, False)
    assert text_accepted("сӯҳбат", ["суҳбат"], False, True)  # ӯ = у + macron
    assert not text_accepted("сӯҳбат", ["суҳбат"], False, False)
    assert not text_accepted("сухбат", ["суҳбат"], False, True)  # ҳ is a letter of its own
    assert text_accepted("Ҳисоб", ["ҳисоб"], False, False)
    decomposed = unicodedata.normalize("NFD", "bɛ̀")
    assert text_accepted(decomposed, ["bɛ̀"], True, False)  # NFC on both sides


letters = st.text(
    alphabet=st.characters(categories=["Ll", "Lu", "Nd"], max_codepoint=0x4FF), min_size=1
)
marks = st.lists(st.sampled_from([chr(c) for c in range(0x300, 0x370) if c != 0x34F]), max_size=3)


@given(word=letters, added=st.lists(marks, min_size=1))
def test_diacritics_insensitive_comparison_ignores_added_marks(word, added):
    assume(all(not unicodedata.combining(c) for c in word))
    marked = "".join(c + "".join(added[i % len(added)]) for i, c in enumerate(word))
    assert normalise_text(marked, case_sensitive=True, ignore_diacritics=True) == normalise_text(
        word, case_sensitive=True, ignore_diacritics=True
    )
    assert text_accepted(marked, [word], False, True)


@given(st.text())
def test_normalising_twice_changes_nothing(text):
    for case in (True, False):
        for marks_too in (True, False):
            once = normalise_text(text, case_sensitive=case, ignore_diacritics=marks_too)
            assert normalise_text(once, case_sensitive=case, ignore_diacritics=marks_too) == once


# ---------------------------------------------------------------- ordering, matching, blanks


def ordering(partial: bool) -> Item:
    steps = [{"id": s, "text": s} for s in "abcde"]
    return make(type="ordering", steps=steps, partial_credit=partial)


@pytest.mark.parametrize(
    ("order", "partial"),
    [
        ("abcde", 1.0),
        ("bcdea", 3 / 4),
        ("abdce", 1 / 4),
        ("edcba", 0.0),
        ("acebd", 0.0),
        ("ab", 1 / 4),
    ],
)
def test_ordering_exact_or_the_share_of_adjacent_pairs_in_order(order, partial):
    assert grade(ordering(False), list(order)).score == float(order == "abcde")
    assert grade(ordering(True), tuple(order)).score == pytest.approx(partial)


def test_ordering_parts_and_refusals():
    assert grade(ordering(True), list("abdce")).parts == (
        ("a", True), ("b", True), ("c", False), ("d", False), ("e", True),
    )  # fmt: skip
    with pytest.raises(InvalidResponse, match="the step ids in order"):
        grade(ordering(True), "abcde")


def matching(partial: bool = True) -> Item:
    return make(
        type="matching",
        sources=[{"id": s, "text": s} for s in ("fish", "cow", "goat", "stone")],
        targets=[{"id": t, "text": t} for t in ("river", "field")],
        pairs=[["fish", "river"], ["cow", "field"], ["goat", "field"]],
        partial_credit=partial,
    )


def test_matching_all_pairs_or_the_share_of_right_pairs():
    right = {"fish": "river", "cow": "field", "goat": "field"}
    assert grade(matching(), right).correct
    assert grade(matching(), [("goat", "field"), ("cow", "field"), ("fish", "river")]).correct
    two = grade(matching(), {"fish": "river", "cow": "field", "goat": "river"})
    assert two.status is GradeStatus.PARTLY
    assert two.score == pytest.approx(2 / 3)
    assert two.parts == (("fish", True), ("cow", True), ("goat", False), ("stone", True))
    distractor = grade(matching(), {**right, "stone": "river"})  # 3 right of 4 pairs given
    assert (distractor.status, distractor.score) == (GradeStatus.PARTLY, 0.75)
    assert grade(matching(), {"fish": "river"}).score == pytest.approx(1 / 3)
    assert grade(matching(False), {"fish": "river"}).score == 0.0
    with pytest.raises(InvalidResponse, match="each source once"):
        grade(matching(), [("fish", "river"), ("fish", "field")])
    with pytest.raises(InvalidResponse, match="source and target id pairs"):
        grade(matching(), "fish river")


BLANKS = make(
    type="fill_blanks",
    prompt="<p>Le {{river}} traverse {{city}} à {{km}} km.</p>",
    blanks=[
        {"id": "river", "answers": ["Niger"], "ignore_diacritics": True},
        {"id": "city", "type": "choice", "correct": "bamako",
         "choices": [{"id": "bamako", "text": "Bamako"}, {"id": "gao", "text": "Gao"}]},
        {"id": "km", "type": "numeric", "answers": [{"value": 235, "tolerance": 5}]},
    ],
    feedback={"incorrect": "<p>Relis.</p>"},
)  # fmt: skip


def test_fill_in_blanks_score_each_blank():
    assert grade(BLANKS, {"river": "niger", "city": "bamako", "km": "231,5"}).correct
    partly = grade(BLANKS, {"river": "Nil", "city": "bamako", "km": "235"})
    assert partly.status is GradeStatus.PARTLY
    assert partly.score == pytest.approx(2 / 3)
    assert partly.parts == (("river", False), ("city", True), ("km", True))
    assert partly.feedback == ("<p>Relis.</p>",)
    empty = grade(BLANKS, {})
    assert (empty.status, empty.score) == (GradeStatus.INCORRECT, 0.0)
    with pytest.raises(InvalidResponse, match="the answer of each blank, by blank id"):
        grade(BLANKS, {"river": 3})


def test_free_response_waits_for_a_teacher():
    item = make(type="free_response")
    assert grade(item, "Mon école est grande.") == Grade(GradeStatus.NEEDS_TEACHER, None)
    assert not grade(item, "").correct
    with pytest.raises(InvalidResponse):
        grade(item, None)
