"""The exercise format: the documented example, every refusal's message, item text, xAPI."""

import copy
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalan.content.exercises import (
    ExerciseError,
    exercise_text,
    exercise_to_json,
    load_exercise,
    media_of,
    parse_exercise,
)
from kalan.content.exercises.markup import MarkupError, clean_text, placeholders, plain_text
from kalan.content.exercises.model import (
    ChoiceBlank,
    FillBlanksItem,
    MatchingItem,
    MediaKind,
    MOfN,
    MultipleChoiceItem,
    NInARow,
    NumericAnswer,
    NumericBlank,
    NumericItem,
    Percentage,
    SingleChoiceItem,
    TextBlank,
)
from kalan.content.exercises.xapi import interaction_definition, interaction_type
from kalan.content.inspect import InvalidFile, inspect_file

DOC = Path(__file__).resolve().parents[3] / "docs" / "architecture" / "exercises.md"


def documented_example() -> dict[str, Any]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    example: dict[str, Any] = json.loads(blocks[0])
    return example


def minimal(**item: Any) -> dict[str, Any]:
    return {
        "title": "T",
        "items": [
            {"id": "q1", "type": "true_false", "prompt": "<p>?</p>", "correct": True, **item}
        ],
    }


# ---------------------------------------------------------------- the documented example


def test_the_documented_example_holds_every_item_type_and_reads_back_equal():
    exercise = parse_exercise(documented_example())
    assert {item.type for item in exercise.items} == {
        "single_choice", "multiple_choice", "true_false", "numeric", "short_text",
        "ordering", "matching", "fill_blanks", "free_response",
    }  # fmt: skip
    assert parse_exercise(exercise_to_json(exercise)) == exercise
    assert parse_exercise(json.loads(json.dumps(exercise_to_json(exercise)))) == exercise
    assert exercise.mastery == MOfN(m=4, n=5)
    assert exercise.language == "fr"
    assert exercise.item("even").language == "en"


def test_the_example_reads_into_typed_fields():
    exercise = parse_exercise(documented_example())
    pots = exercise.item("pots")
    assert isinstance(pots, SingleChoiceItem)
    assert pots.correct == "b"
    assert pots.media[0].kind is MediaKind.IMAGE
    assert pots.hints == ("<p>Touche chaque pot avec ton doigt.</p>", "<p>Un, deux, …</p>")
    assert pots.choices[0].feedback == "Compte encore : il y en a un de plus."
    even = exercise.item("even")
    assert isinstance(even, MultipleChoiceItem)
    assert even.correct == frozenset({"two", "four"})
    assert (even.partial_credit, even.shuffle_choices) == (True, False)
    half = exercise.item("half")
    assert isinstance(half, NumericItem)
    assert half.answers[0] == NumericAnswer(value=Decimal("0.75"), tolerance=Decimal("0.001"))
    assert half.answers[1].bounds() == (Decimal("0.74"), Decimal("0.76"))
    field = exercise.item("field")
    assert isinstance(field, NumericItem)
    assert field.answers[0].bounds() == (Decimal(114), Decimal(126))
    niger = exercise.item("niger")
    assert isinstance(niger, FillBlanksItem)
    assert [type(blank) for blank in niger.blanks] == [TextBlank, ChoiceBlank, NumericBlank]
    animals = exercise.item("animals")
    assert isinstance(animals, MatchingItem)
    assert animals.partial_credit is True


def test_the_exercise_lists_its_media_and_words():
    exercise = parse_exercise(documented_example())
    assert [(item, media.src) for item, media in media_of(exercise)] == [
        ("pots", "images/pots.png"),
        ("greeting", "sounds/salom.ogg"),
    ]
    words = exercise_text(exercise)
    assert "Combien de pots vois-tu ?" in words
    assert "Je vais à l'école" in words
    assert "<" not in words


def test_mastery_models_and_defaults():
    for mastery, rule in [
        (None, MOfN(4, 5)),
        ({"model": "m_of_n", "m": 2, "n": 3}, MOfN(2, 3)),
        ({"model": "n_in_a_row", "n": 5}, NInARow(5)),
        ({"model": "n_in_a_row"}, NInARow(3)),
        ({"model": "percentage", "percent": 70, "minimum": 4}, Percentage(70, 4)),
    ]:
        data = minimal()
        if mastery is not None:
            data["mastery"] = mastery
        exercise = parse_exercise(data)
        assert exercise.mastery == rule
        assert parse_exercise(exercise_to_json(exercise)) == exercise
    assert parse_exercise(minimal()).shuffle_items is True


# ---------------------------------------------------------------- refusals


def broken(change) -> dict[str, Any]:
    data = copy.deepcopy(documented_example())
    change(data)
    return data


def item(data: dict[str, Any], item_id: str) -> dict[str, Any]:
    return next(entry for entry in data["items"] if entry["id"] == item_id)


REFUSALS = [
    (lambda d: item(d, "field")["answers"][0].update(tolerance=-1),
     'item "field": "answers[0].tolerance" must be a number ≥ 0'),
    (lambda d: item(d, "field")["answers"][0].update(tolerance_percent="5"),
     'item "field": "answers[0].tolerance_percent" must be a number ≥ 0'),
    (lambda d: item(d, "half")["answers"][1].update(minimum=1),
     'item "half": "answers[1]": "minimum" is larger than "maximum"'),
    (lambda d: item(d, "half")["answers"][1].update(value=1),
     'item "half": "answers[1]" has a "value" and a range: give one or the other'),
    (lambda d: item(d, "half")["answers"][1].pop("maximum"),
     'item "half": "answers[1]" needs a "value", or a "minimum" and a "maximum"'),
    (lambda d: item(d, "half").update(answers=[{"value": True}]),
     'item "half": "answers[0].value" must be a number'),
    (lambda d: item(d, "half").update(answers=[]),
     'item "half": "answers" needs at least 1 entry'),
    (lambda d: item(d, "pots").update(correct="z"),
     'item "pots": "correct": "z" is not one of the choices'),
    (lambda d: item(d, "pots")["choices"][1].update(id="a"),
     'item "pots": "choices[1].id": the id "a" is used twice'),
    (lambda d: item(d, "pots")["choices"][1].update(id="b c"),
     'item "pots": "choices[1].id" must be 1 to 64 letters'),
    (lambda d: item(d, "pots")["choices"][1].pop("text"),
     'item "pots": "choices[1]" needs a "text" or "media"'),
    (lambda d: item(d, "pots").update(choices=[{"id": "b", "text": "3"}]),
     'item "pots": "choices" needs at least 2 entries'),
    (lambda d: item(d, "pots")["media"][0].pop("alt"),
     'item "pots": "media[0].alt" is required: say what the picture shows'),
    (lambda d: item(d, "pots")["media"][0].update(src="../secret.png"),
     'item "pots": "media[0].src" must be a relative path inside the exercise\'s folder'),
    (lambda d: item(d, "pots")["media"][0].update(src="images/pot.svg"),
     'item "pots": "media[0].src" must be a picture (.gif, .jpeg, .jpg, .png, .webp)'),
    (lambda d: item(d, "pots").update(prompt="<p onclick=\"x()\">?</p>"),
     'item "pots": "prompt": the attribute onclick is not allowed on <p>'),
    (lambda d: item(d, "pots").update(hints=["ok", "<script>x</script>"]),
     'item "pots": "hints[1]": <script> is not allowed in item text'),
    (lambda d: item(d, "pots").update(feedback={"correct": "<p>x"}),
     'item "pots": "feedback.correct": <p> is not closed'),
    (lambda d: item(d, "pots").update(feedback={"wrong": "x"}),
     'item "pots": unknown field "feedback.wrong"'),
    (lambda d: item(d, "pots").update(shufle_choices=False),
     'item "pots": unknown field "shufle_choices"'),
    (lambda d: item(d, "pots").update(type="essay"),
     'item "pots": "type" must be one of: single_choice, multiple_choice'),
    (lambda d: item(d, "pots").update(language="French"),
     'item "pots": "language" must be a language tag'),
    (lambda d: item(d, "even").update(correct=["two", "two"]),
     'item "even": "correct[1]": "two" is listed twice'),
    (lambda d: item(d, "even").update(correct=["six"]),
     'item "even": "correct[0]": "six" is not one of the choices'),
    (lambda d: item(d, "sun").update(correct="yes"),
     'item "sun": "correct" must be true or false'),
    (lambda d: item(d, "capital").update(answers=["Bamako", " "]),
     'item "capital": "answers[1]" must be a non-empty string'),
    (lambda d: item(d, "capital").update(case_sensitive="no"),
     'item "capital": "case_sensitive" must be true or false'),
    (lambda d: item(d, "animals")["pairs"].append(["fish", "field"]),
     'item "animals": "pairs[3]": the source "fish" is in two pairs'),
    (lambda d: item(d, "animals")["pairs"].append(["river", "fish"]),
     'item "animals": "pairs[3]" must be a pair ["source id", "target id"]'),
    (lambda d: item(d, "animals")["targets"][0].update(id="fish"),
     'item "animals": "targets": the id "fish" is used twice'),
    (lambda d: item(d, "niger").update(prompt="<p>Le {{river}} à {{km}} km.</p>"),
     'item "niger": "prompt" has no {{city}} for the blank "city"'),
    (lambda d: item(d, "niger").update(prompt="<p>{{river}} {{city}} {{km}} {{sea}}</p>"),
     'item "niger": "prompt" holds {{sea}}, but no blank has that id'),
    (lambda d: item(d, "niger").update(prompt="<p>{{river}} {{city}} {{km}} {{km}}</p>"),
     'item "niger": "prompt" holds {{km}} twice'),
    (lambda d: item(d, "niger").update(
        prompt="<p>{{river}} {{city}} <math><mn>{{km}}</mn></math></p>"),
     'item "niger": "prompt": the blank {{km}} is inside <math>'),
    (lambda d: item(d, "niger")["blanks"][2].update(type="date"),
     'item "niger": "blanks[2].type" must be one of: text, numeric, choice'),
    (lambda d: item(d, "niger")["blanks"][1].update(correct="timbuktu"),
     'item "niger": "blanks[1].correct": "timbuktu" is not one of the choices'),
    (lambda d: d["items"].append(dict(item(d, "sun"))),
     'item "sun": another item has the same id'),
    (lambda d: d["items"].append({"type": "true_false"}),
     'item number 12: "id" must be 1 to 64 letters'),
    (lambda d: d["items"].append("q12"),
     "item number 12: an item must be a JSON object"),
    (lambda d: d.update(items=[]), "the exercise needs at least one item"),
    (lambda d: d.update(mastery={"model": "m_of_n", "m": 6, "n": 5}),
     '"mastery.m" must not be larger than "mastery.n"'),
    (lambda d: d.update(mastery={"model": "n_in_a_row", "n": 0}),
     '"mastery.n" must be a whole number from 1 to 100'),
    (lambda d: d.update(mastery={"model": "always"}),
     '"mastery.model" must be one of: m_of_n, n_in_a_row, percentage'),
    (lambda d: d.update(shuffle_items="yes"), '"shuffle_items" must be true or false'),
    (lambda d: d.update(colour="red"), 'unknown field "colour"'),
    (lambda d: d.pop("title"), 'the exercise needs a "title"'),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), REFUSALS)
def test_each_refusal_names_the_item_and_the_field(change, message):
    with pytest.raises(ExerciseError) as caught:
        parse_exercise(broken(change))
    assert str(caught.value).startswith(message), str(caught.value)
    assert caught.value.problems == [str(caught.value)]


def test_load_refuses_what_is_not_a_json_exercise():
    for data, message in [
        (b"{", "the exercise is not valid JSON"),
        (b"\xff\xfe", "the exercise is not valid JSON"),
        (b"[]", "the exercise is not a JSON object"),
        (b'{"title": "x", "items": {}}', 'the exercise needs an "items" list'),
        (b"[" * 100_000, "the exercise is not valid JSON"),
        (b" " * (10 * 1024 * 1024 + 1), "larger than 10 MB"),
    ]:
        with pytest.raises(ExerciseError, match=re.escape(message)):
            load_exercise(data)
    bom = "\ufeff" + json.dumps(minimal())
    assert load_exercise(bom.encode()).title == "T"


# ---------------------------------------------------------------- item text


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("plain 3 < 5 & more", "plain 3 &lt; 5 &amp; more"),
        ("<p>Un<br/>deux<br></p>", "<p>Un<br>deux<br></p>"),
        ("<P LANG='bm'>I ni ce</P>", '<p lang="bm">I ni ce</p>'),
        ("<ul><li>a</li>\n<li><em>b</em></li></ul>", "<ul><li>a</li>\n<li><em>b</em></li></ul>"),
        ('<span lang="tg" dir="ltr">Салом</span>', '<span lang="tg" dir="ltr">Салом</span>'),
        (
            '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><mfrac><mn>1</mn>'
            '<mi mathvariant="bold">x</mi></mfrac></math>',
            '<math display="block"><mfrac><mn>1</mn><mi mathvariant="bold">x</mi></mfrac></math>',
        ),
        (
            "<math><msqrt><mn>2</mn></msqrt><mspace/><mroot><mn>8</mn><mn>3</mn></mroot></math>",
            "<math><msqrt><mn>2</mn></msqrt><mspace></mspace><mroot><mn>8</mn><mn>3</mn></mroot></math>",
        ),
        (
            "<math><mtable><mtr><mtd><mn>1</mn></mtd></mtr></mtable></math>",
            "<math><mtable><mtr><mtd><mn>1</mn></mtd></mtr></mtable></math>",
        ),
        (
            "<math><semantics><mi>x</mi><annotation>x</annotation></semantics></math>",
            "<math><semantics><mi>x</mi><annotation>x</annotation></semantics></math>",
        ),
        ("&eacute;t&#233; &lt;b&gt;", "été &lt;b&gt;"),
    ],
)
def test_item_text_is_kept_in_canonical_form(text, canonical):
    assert clean_text(text) == canonical
    assert clean_text(canonical) == canonical


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<script>alert(1)</script>", "<script> is not allowed in item text"),
        ('<a href="http://x">x</a>', "<a> is not allowed in item text"),
        ('<img src="x.png" alt="">', "<img> is not allowed in item text"),
        ("<svg></svg>", "<svg> is not allowed in item text"),
        ('<p style="color:red">x</p>', "the attribute style is not allowed on <p>"),
        ('<span class="x">x</span>', "the attribute class is not allowed on <span>"),
        ('<p dir="up">x</p>', 'dir="up" is not allowed on <p>'),
        ('<span lang="a b">x</span>', 'lang="a b" is not allowed on <span>'),
        ('<math display="wide"></math>', 'display="wide" is not allowed on <math>'),
        ('<p display="block">x</p>', "the attribute display is not allowed on <p>"),
        ('<math><mi href="x">x</mi></math>', "the attribute href is not allowed on <mi>"),
        ('<math xmlns="http://evil">x</math>', "the attribute xmlns is not allowed on <math>"),
        ("<mi>x</mi>", "<mi> must be inside <math>"),
        ("<math><p>x</p></math>", "<p> is not allowed inside <math>"),
        ("<math><math></math></math>", "<math> is not allowed inside <math>"),
        ("<li>x</li>", "<li> must be inside <ul>"),
        ("<ul>x<li>y</li></ul>", "text is not allowed directly inside <ul>"),
        ("<ul><p>x</p></ul>", "<p> is not allowed inside <ul>"),
        ("<math><mtd></mtd></math>", "<mtd> must be inside <mtr>"),
        ("<p><p>x</p></p>", "<p> is not allowed inside <p>"),
        ("<em><ul><li>x</li></ul></em>", "<ul> is not allowed inside <em>"),
        ("<p>x", "<p> is not closed"),
        ("x</p>", "</p> has no matching <p>"),
        ("<em><strong>x</em></strong>", "</em> has no matching <em>"),
        ("<!-- note -->", "comments are not allowed in item text"),
        ("<!DOCTYPE html>", "declarations are not allowed in item text"),
        ("<?php x ?>", "processing instructions are not allowed in item text"),
        ("<p>a<b>c</b></p>", "<b> is not allowed in item text"),
    ],
)
def test_item_text_outside_the_allow_list_is_refused_with_the_reason(text, reason):
    with pytest.raises(MarkupError) as caught:
        clean_text(text)
    assert str(caught.value) == reason


@given(st.text())
def test_any_plain_text_is_accepted_escaped_and_read_back(text):
    clean = text.replace("<", " ").replace("&", " ")
    accepted = clean_text(clean)
    assert clean_text(accepted) == accepted
    assert "<" not in accepted
    assert plain_text(accepted) == " ".join(clean.split())


def test_plain_text_and_placeholders():
    text = clean_text("<p>Le {{a}} et</p><p><math><mi>x</mi><mn>{{b}}</mn></math></p>")
    assert placeholders(text) == (["a"], ["b"])
    assert plain_text(text) == "Le {{a}} et x"
    annotated = "<math><semantics><mi>x</mi><annotation>TeX x</annotation></semantics></math>"
    assert plain_text(clean_text(annotated)) == "x"


# ---------------------------------------------------------------- xAPI


def test_each_item_type_has_its_xapi_interaction_definition():
    exercise = parse_exercise(documented_example())
    defs = {item.id: interaction_definition(item, exercise.language) for item in exercise.items}
    assert defs["pots"] == {
        "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
        "description": {"fr": "Combien de pots vois-tu ?"},
        "interactionType": "choice",
        "choices": [
            {"id": "a", "description": {"fr": "2"}},
            {"id": "b", "description": {"fr": "3"}},
            {"id": "c", "description": {"fr": "4"}},
        ],
        "correctResponsesPattern": ["b"],
    }
    assert defs["even"]["description"] == {"en": "Which numbers are even?"}
    assert defs["even"]["correctResponsesPattern"] == ["two[,]four"]
    assert defs["sun"]["interactionType"] == "true-false"
    assert defs["sun"]["correctResponsesPattern"] == ["true"]
    assert defs["half"]["interactionType"] == "numeric"
    assert defs["half"]["correctResponsesPattern"] == ["0.749[:]0.751", "0.74[:]0.76"]
    assert defs["field"]["correctResponsesPattern"] == ["114[:]126"]
    assert defs["capital"]["interactionType"] == "fill-in"
    assert defs["capital"]["correctResponsesPattern"] == ["Bamako"]
    assert defs["greeting"]["correctResponsesPattern"] == ["{case_matters=true}Салом"]
    assert defs["greeting"]["description"] == {"tg": "Салом — write the greeting in Tajik."}
    assert defs["morning"]["interactionType"] == "sequencing"
    assert [c["id"] for c in defs["morning"]["choices"]] == ["wake", "wash", "school"]
    assert defs["morning"]["correctResponsesPattern"] == ["wake[,]wash[,]school"]
    assert defs["animals"]["interactionType"] == "matching"
    assert [c["id"] for c in defs["animals"]["source"]] == ["fish", "cow", "goat"]
    assert [c["id"] for c in defs["animals"]["target"]] == ["river", "field"]
    assert defs["animals"]["correctResponsesPattern"] == [
        "fish[.]river[,]cow[.]field[,]goat[.]field"
    ]
    assert defs["niger"]["interactionType"] == "other"
    assert "correctResponsesPattern" not in defs["niger"]
    assert defs["story"]["interactionType"] == "long-fill-in"
    assert "correctResponsesPattern" not in defs["story"]


def test_fill_in_patterns_list_every_combination_or_nothing():
    def blanks_item(*blanks):
        text = " ".join(f"{{{{{blank['id']}}}}}" for blank in blanks)
        data = {"id": "f", "type": "fill_blanks", "prompt": text, "blanks": list(blanks)}
        return parse_exercise({"title": "T", "items": [data]}).items[0]

    two = blanks_item(
        {"id": "a", "answers": ["x", "y"]},
        {"id": "b", "type": "choice", "choices": [{"id": "p", "text": "P"},
                                                   {"id": "q", "text": "Q"}], "correct": "q"},
    )  # fmt: skip
    assert interaction_type(two) == "fill-in"
    assert interaction_definition(two)["correctResponsesPattern"] == ["x[,]q", "y[,]q"]
    assert interaction_definition(two)["description"] == {"und": "{{a}} {{b}}"}
    sensitive = blanks_item({"id": "a", "answers": ["X"], "case_sensitive": True})
    assert interaction_definition(sensitive)["correctResponsesPattern"] == ["{case_matters=true}X"]
    mixed = blanks_item(
        {"id": "a", "answers": ["X"], "case_sensitive": True}, {"id": "b", "answers": ["y"]}
    )
    assert "correctResponsesPattern" not in interaction_definition(mixed)
    many = blanks_item(*({"id": f"b{n}", "answers": ["1", "2"]} for n in range(6)))
    assert "correctResponsesPattern" not in interaction_definition(many)


# ---------------------------------------------------------------- at build time


def write_exercise(folder: Path, data: dict[str, Any]) -> Path:
    path = folder / "practice.exercise.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_inspection_checks_the_whole_exercise_and_finds_its_media(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "pots.png").write_bytes(b"png")
    (tmp_path / "sounds").mkdir()
    (tmp_path / "sounds" / "salom.ogg").write_bytes(b"ogg")
    inspection = inspect_file(write_exercise(tmp_path, documented_example()))
    assert (inspection.kind, inspection.title, inspection.language) == (
        "exercise",
        "Compter et mesurer",
        "fr",
    )
    assert inspection.description == "Practice for P2: numbers, shapes and words."
    assert inspection.options == {
        "item_count": 11,
        "media": ["images/pots.png", "sounds/salom.ogg"],
    }
    assert "Quelle est la capitale du Mali ?" in inspection.text


def test_inspection_refuses_missing_media_and_invalid_items(tmp_path):
    path = write_exercise(tmp_path, documented_example())
    with pytest.raises(InvalidFile, match=r'^item "pots": the file images/pots.png is not in the'):
        inspect_file(path)
    data = minimal(prompt="<p><iframe></iframe></p>")
    with pytest.raises(InvalidFile) as caught:
        inspect_file(write_exercise(tmp_path, data))
    assert str(caught.value) == 'item "q1": "prompt": <iframe> is not allowed in item text'


def test_inspection_refuses_media_that_leads_out_of_the_folder(tmp_path):
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"png")
    folder = tmp_path / "channel"
    folder.mkdir()
    (folder / "pots.png").symlink_to(outside)
    data = minimal(media=[{"src": "pots.png", "alt": "Pots"}])
    with pytest.raises(InvalidFile, match=r"the file pots\.png is not in the exercise's folder"):
        inspect_file(write_exercise(folder, data))
