"""QTI 2.2 and 3.0 import: every supported interaction, packages, and what is refused."""

import io
import json
import zipfile
from decimal import Decimal

import pytest

from kalan.content.exercises import ExerciseError, load_exercise
from kalan.content.exercises.model import (
    ChoiceBlank,
    FillBlanksItem,
    FreeResponseItem,
    MatchingItem,
    MediaKind,
    MultipleChoiceItem,
    NumericAnswer,
    NumericBlank,
    OrderingItem,
    SingleChoiceItem,
    TextBlank,
)
from kalan.content.exercises.qti import convert_qti_item, import_qti, save_qti_import
from kalan.content.inspect import InvalidFile, inspect_file

QTI2 = "http://www.imsglobal.org/xsd/imsqti_v2p2"
QTI3 = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
TEMPLATE2 = "http://www.imsglobal.org/question/qti_v2p2/rptemplates/"
TEMPLATE3 = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/"


def item2(body: str, declarations: str = "", after: str = "", **attributes: str) -> bytes:
    extra = " ".join(
        f'{key}="{value}"' for key, value in {"adaptive": "false", **attributes}.items()
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{QTI2}" identifier="q1" title="A question"
  timeDependent="false" {extra}>
  {declarations}
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody>{body}</itemBody>
  {after}
</assessmentItem>""".encode()


def item3(body: str, declarations: str = "", after: str = "", **attributes: str) -> bytes:
    extra = " ".join(f'{key}="{value}"' for key, value in attributes.items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-item xmlns="{QTI3}" identifier="q1" title="A question" adaptive="false"
  time-dependent="false" {extra}>
  {declarations}
  <qti-item-body>{body}</qti-item-body>
  {after}
</qti-assessment-item>""".encode()


def declaration2(
    values: list[str],
    cardinality: str = "single",
    base: str = "identifier",
    identifier: str = "RESPONSE",
    mapping: str = "",
) -> str:
    correct = "".join(f"<value>{value}</value>" for value in values)
    correct = f"<correctResponse>{correct}</correctResponse>" if values else ""
    return (f'<responseDeclaration identifier="{identifier}" cardinality="{cardinality}"'
            f' baseType="{base}">{correct}{mapping}</responseDeclaration>')  # fmt: skip


def declaration3(
    values: list[str],
    cardinality: str = "single",
    base: str = "identifier",
    identifier: str = "RESPONSE",
    mapping: str = "",
) -> str:
    correct = "".join(f"<qti-value>{value}</qti-value>" for value in values)
    correct = f"<qti-correct-response>{correct}</qti-correct-response>" if values else ""
    return (f'<qti-response-declaration identifier="{identifier}" cardinality="{cardinality}"'
            f' base-type="{base}">{correct}{mapping}</qti-response-declaration>')  # fmt: skip


def processing2(template: str) -> str:
    return f'<responseProcessing template="{TEMPLATE2}{template}"/>'


def processing3(template: str) -> str:
    return f'<qti-response-processing template="{TEMPLATE3}{template}.xml"/>'


# ---------------------------------------------------------------- choice


def test_a_qti2_single_choice_with_mathml_pictures_and_feedback():
    xml = item2(
        """<p>Look at the sign.</p><p><img src="images/sign.png" alt="A road sign"/></p>
        <choiceInteraction responseIdentifier="RESPONSE" shuffle="true" maxChoices="1">
          <prompt>Which is <math xmlns="http://www.w3.org/1998/Math/MathML"><mfrac>
            <mn>1</mn><mn>2</mn></mfrac></math>?</prompt>
          <simpleChoice identifier="A">one half<feedbackInline outcomeIdentifier="FEEDBACK"
            identifier="A" showHide="show">Yes!</feedbackInline></simpleChoice>
          <simpleChoice identifier="B"><b>two</b></simpleChoice>
        </choiceInteraction>""",
        declaration2(["A"]),
        processing2("match_correct")
        + '<modalFeedback outcomeIdentifier="FEEDBACK" identifier="correct" showHide="show">'
        "Well done</modalFeedback>"
        '<modalFeedback outcomeIdentifier="FEEDBACK" identifier="INCORRECT" showHide="show">'
        "<p>Try again</p></modalFeedback>",
        **{"xml:lang": "fr"},
    )
    converted = convert_qti_item(xml)
    item = converted.item
    assert isinstance(item, SingleChoiceItem)
    assert item.id == "q1"
    assert item.prompt == (
        "<p>Look at the sign.</p><p>Which is <math><mfrac> <mn>1</mn><mn>2</mn></mfrac></math>?</p>"
    )
    assert [(m.kind, m.src, m.alt) for m in item.media] == [
        (MediaKind.IMAGE, "images/sign.png", "A road sign")
    ]
    assert [(c.id, c.text, c.feedback) for c in item.choices] == [
        ("A", "one half", "Yes!"),
        ("B", "<strong>two</strong>", ""),
    ]
    assert (item.correct, item.shuffle_choices) == ("A", True)
    assert (item.feedback.correct, item.feedback.incorrect) == ("Well done", "<p>Try again</p>")
    assert (converted.title, converted.language, converted.notes) == ("A question", "fr", ())


def test_a_qti3_multiple_choice_with_map_response_gets_partial_credit():
    xml = item3(
        """<qti-choice-interaction response-identifier="RESPONSE" max-choices="0" shuffle="true">
          <qti-prompt><p>Which form water?</p></qti-prompt>
          <qti-simple-choice identifier="H">Hydrogen</qti-simple-choice>
          <qti-simple-choice identifier="He">Helium</qti-simple-choice>
          <qti-simple-choice identifier="O">Oxygen</qti-simple-choice>
          <qti-simple-choice identifier="all" fixed="true">All of them</qti-simple-choice>
        </qti-choice-interaction>""",
        declaration3([], "multiple", mapping=(
            '<qti-mapping default-value="0"><qti-map-entry map-key="H" mapped-value="1"/>'
            '<qti-map-entry map-key="O" mapped-value="1"/>'
            '<qti-map-entry map-key="He" mapped-value="-1"/></qti-mapping>')),
        processing3("map_response")
        + '<qti-modal-feedback outcome-identifier="FEEDBACK" identifier="He" show-hide="show">'
        "<qti-content-body><p>Helium is a noble gas.</p></qti-content-body></qti-modal-feedback>"
        + '<qti-modal-feedback outcome-identifier="FEEDBACK" identifier="RESPONSE_correct"'
        ' show-hide="show"><qti-content-body><p>Good</p></qti-content-body></qti-modal-feedback>',
    )  # fmt: skip
    item = convert_qti_item(xml).item
    assert isinstance(item, MultipleChoiceItem)
    assert item.prompt == "<p>Which form water?</p>"
    assert item.correct == frozenset({"H", "O"})
    assert item.partial_credit is True
    assert item.shuffle_choices is False  # a fixed choice keeps every choice in place
    assert [c.feedback for c in item.choices] == ["", "<p>Helium is a noble gas.</p>", "", ""]
    assert item.feedback.correct == "<p>Good</p>"


def test_choice_feedback_by_modal_identifier_and_hints_and_notes():
    xml = item2(
        """<choiceInteraction responseIdentifier="RESPONSE" maxChoices="1">
          <simpleChoice identifier="true">True</simpleChoice>
          <simpleChoice identifier="false">False</simpleChoice></choiceInteraction>
          <endAttemptInteraction responseIdentifier="HINTREQUEST" title="Hint"/>""",
        declaration2(["true"]),
        '<modalFeedback outcomeIdentifier="FEEDBACK" identifier="false" showHide="show">'
        "It is true.</modalFeedback>"
        '<modalFeedback outcomeIdentifier="FEEDBACK" identifier="HINT" showHide="show">'
        "Think of the sun.</modalFeedback>"
        '<modalFeedback outcomeIdentifier="FEEDBACK" identifier="correct" showHide="hide">'
        "Not yet.</modalFeedback>"
        '<modalFeedback outcomeIdentifier="SCORE_BAND" identifier="HIGH" showHide="show">'
        "Top band.</modalFeedback>",
    )
    converted = convert_qti_item(xml)
    item = converted.item
    assert isinstance(item, SingleChoiceItem)
    assert item.prompt == "<p>A question</p>"  # no text in the body: the title
    assert [c.feedback for c in item.choices] == ["", "It is true."]
    assert item.hints == ("Think of the sun.",)
    assert item.feedback.incorrect == "Not yet."
    assert converted.notes == (
        'feedback "HIGH" of item "q1" was left out: it depends on rules Kalan does not run',
    )


# ---------------------------------------------------------------- order, match, associate


@pytest.mark.parametrize(
    ("make", "declare", "tag", "choice"),
    [(item2, declaration2, "orderInteraction", "simpleChoice"),
     (item3, declaration3, "qti-order-interaction", "qti-simple-choice")],
)  # fmt: skip
def test_order_interactions_become_ordering_items(make, declare, tag, choice):
    response = "responseIdentifier" if make is item2 else "response-identifier"
    body = (
        f'<{tag} {response}="RESPONSE" shuffle="true"><{choice} identifier="A">Rubens</{choice}>'
        f'<{choice} identifier="B">Jenson</{choice}><{choice} identifier="C">Michael</{choice}>'
        f"</{tag}>"
    )
    item = convert_qti_item(make(body, declare(["C", "A", "B"], "ordered"))).item
    assert isinstance(item, OrderingItem)
    assert [(s.id, s.text) for s in item.steps] == [
        ("C", "Michael"), ("A", "Rubens"), ("B", "Jenson")
    ]  # fmt: skip
    with pytest.raises(ExerciseError, match="the correct order must hold every choice once"):
        convert_qti_item(make(body, declare(["C", "A"], "ordered")))


def test_match_interactions_become_matching_items():
    xml = item2(
        """<matchInteraction responseIdentifier="RESPONSE" shuffle="true" maxAssociations="4">
          <prompt>Match characters to plays</prompt>
          <simpleMatchSet>
            <simpleAssociableChoice identifier="C" matchMax="1">Capulet</simpleAssociableChoice>
            <simpleAssociableChoice identifier="D" matchMax="1">Demetrius</simpleAssociableChoice>
            <simpleAssociableChoice identifier="P" matchMax="1">Prospero</simpleAssociableChoice>
          </simpleMatchSet>
          <simpleMatchSet>
            <simpleAssociableChoice identifier="M" matchMax="4">Dream</simpleAssociableChoice>
            <simpleAssociableChoice identifier="R" matchMax="4">Romeo</simpleAssociableChoice>
          </simpleMatchSet></matchInteraction>""",
        declaration2(["C R", "D M"], "multiple", "directedPair"),
        processing2("map_response"),
    )
    item = convert_qti_item(xml).item
    assert isinstance(item, MatchingItem)
    assert [s.id for s in item.sources] == ["C", "D", "P"]
    assert [t.id for t in item.targets] == ["M", "R"]
    assert item.pairs == (("C", "R"), ("D", "M"))
    assert (item.partial_credit, item.shuffle_choices) == (True, True)
    with pytest.raises(ExerciseError, match="a choice is matched twice"):
        convert_qti_item(xml.replace(b"<value>D M</value>", b"<value>C M</value>"))


def test_qti3_associate_interactions_become_matching_items():
    choices = "".join(
        f'<qti-simple-associable-choice identifier="{key}" match-max="1">{name}'
        "</qti-simple-associable-choice>"
        for key, name in [("A", "Antonio"), ("C", "Capulet"), ("M", "Montague"), ("P", "Prospero")]
    )
    xml = item3(
        f'<qti-associate-interaction response-identifier="RESPONSE" max-associations="2">'
        f"<qti-prompt>Find the rivals</qti-prompt>{choices}</qti-associate-interaction>",
        declaration3(["A P", "C M"], "multiple", "pair"),
        processing3("match_correct"),
    )
    item = convert_qti_item(xml).item
    assert isinstance(item, MatchingItem)
    assert [s.id for s in item.sources] == ["A", "C"]
    assert [t.id for t in item.targets] == ["M", "P"]
    assert item.pairs == (("A", "P"), ("C", "M"))
    assert item.partial_credit is False


# ---------------------------------------------------------------- blanks and free response


def test_qti2_text_entries_and_inline_choices_become_one_fill_in_item():
    xml = item2(
        """<p>Identify the missing words.</p><blockquote><p>Made glorious summer by this sun of
          <textEntryInteraction responseIdentifier="R1" expectedLength="15"/>;<br/>the
          <inlineChoiceInteraction responseIdentifier="R2" shuffle="false">
            <inlineChoice identifier="G">Gloucester</inlineChoice>
            <inlineChoice identifier="Y">York</inlineChoice></inlineChoiceInteraction>
          clouds, <textEntryInteraction responseIdentifier="R3"/> of them.</p></blockquote>""",
        declaration2(["York"], base="string", identifier="R1", mapping=(
            '<mapping defaultValue="0"><mapEntry mapKey="York" mappedValue="1"/>'
            '<mapEntry mapKey="Yorke" mappedValue="0.5"/>'
            '<mapEntry mapKey="Lancaster" mappedValue="0"/></mapping>'))
        + declaration2(["Y"], identifier="R2")
        + declaration2(["2.5"], base="float", identifier="R3"),
        """<responseProcessing><responseCondition><responseIf><and>
          <match><variable identifier="R1"/><correct identifier="R1"/></match>
          <equal toleranceMode="relative" tolerance="10 20"><variable identifier="R3"/>
            <correct identifier="R3"/></equal></and></responseIf></responseCondition>
          </responseProcessing>""",
    )  # fmt: skip
    item = convert_qti_item(xml).item
    assert isinstance(item, FillBlanksItem)
    assert item.prompt == (
        "<p>Identify the missing words.</p><p>Made glorious summer by this sun of {{R1}};<br>the"
        " {{R2}} clouds, {{R3}} of them.</p>"
    )
    first, second, third = item.blanks
    assert first == TextBlank(id="R1", answers=("York", "Yorke"), case_sensitive=True)
    assert isinstance(second, ChoiceBlank)
    assert second.correct == "Y"
    assert [(c.id, c.text) for c in second.choices] == [("G", "Gloucester"), ("Y", "York")]
    assert isinstance(third, NumericBlank)
    assert third.answers[0].bounds() == (Decimal("2.25"), Decimal("3.0"))


def test_qti3_numeric_entry_with_a_symmetric_tolerance_and_case_insensitive_text():
    xml = item3(
        '<p>Half of seven is <qti-text-entry-interaction response-identifier="N"/> and the'
        ' capital is <qti-text-entry-interaction response-identifier="T"/>.</p>',
        declaration3(["3.5"], base="float", identifier="N")
        + declaration3([], base="string", identifier="T", mapping=(
            '<qti-mapping><qti-map-entry map-key="Bamako" mapped-value="1"'
            ' case-sensitive="false"/></qti-mapping>')),
        '<qti-response-processing><qti-response-condition><qti-response-if>'
        '<qti-equal tolerance-mode="absolute" tolerance="0.1"><qti-variable identifier="N"/>'
        '<qti-correct identifier="N"/></qti-equal></qti-response-if></qti-response-condition>'
        "</qti-response-processing>",
    )  # fmt: skip
    item = convert_qti_item(xml).item
    assert isinstance(item, FillBlanksItem)
    within = NumericAnswer(value=Decimal("3.5"), tolerance=Decimal("0.1"))
    assert item.blanks == (
        NumericBlank(id="N", answers=(within,)),
        TextBlank(id="T", answers=("Bamako",), case_sensitive=False),
    )


@pytest.mark.parametrize("make", [item2, item3])
def test_extended_text_becomes_a_free_response_with_the_rubric_as_guidance(make):
    if make is item2:
        body = (
            '<rubricBlock view="scorer"><p>Three sentences.</p></rubricBlock>'
            '<extendedTextInteraction responseIdentifier="RESPONSE" expectedLength="200">'
            "<prompt>Write about your school.</prompt></extendedTextInteraction>"
        )
        declarations = declaration2([], base="string")
    else:
        body = (
            '<qti-rubric-block view="scorer"><p>Three sentences.</p></qti-rubric-block>'
            '<qti-extended-text-interaction response-identifier="RESPONSE">'
            "<qti-prompt>Write about your school.</qti-prompt></qti-extended-text-interaction>"
        )
        declarations = declaration3([], base="string")
    item = convert_qti_item(make(body, declarations)).item
    assert isinstance(item, FreeResponseItem)
    assert item.prompt == "<p>Write about your school.</p>"
    assert item.guidance == "<p>Three sentences.</p>"


# ---------------------------------------------------------------- refusals


CHOICE2 = (
    '<choiceInteraction responseIdentifier="RESPONSE" maxChoices="1">'
    '<simpleChoice identifier="A">a</simpleChoice><simpleChoice identifier="B">b</simpleChoice>'
    "</choiceInteraction>"
)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (item2('<hotspotInteraction responseIdentifier="RESPONSE" maxChoices="1"/>',
               declaration2(["A"])),
         'item "q1": <hotspotInteraction> is an interaction Kalan cannot import (it takes:'
         " associateInteraction, choiceInteraction, extendedTextInteraction,"
         " inlineChoiceInteraction, matchInteraction, orderInteraction, textEntryInteraction)"),
        (item3('<qti-slider-interaction response-identifier="RESPONSE" lower-bound="0"'
               ' upper-bound="10"/>', declaration3(["5"], base="integer")),
         'item "q1": <qti-slider-interaction> is an interaction Kalan cannot import'),
        (item3('<qti-gap-match-interaction response-identifier="RESPONSE"/>'),
         'item "q1": <qti-gap-match-interaction> is an interaction Kalan cannot import'),
        (item2(CHOICE2 + '<p><textEntryInteraction responseIdentifier="T"/></p>',
               declaration2(["A"])),
         'item "q1": the QTI item has 2 interactions (choiceInteraction, textEntryInteraction);'
         " a Kalan item asks one question"),
        (item2("<p>Nothing to answer.</p>"), 'item "q1": the QTI item has no interaction'),
        (item2(CHOICE2, declaration2(["A"]), adaptive="true"),
         'item "q1": adaptive QTI items (several attempts with rules) are not supported'),
        (item2(CHOICE2, declaration2(["A"]) + '<templateDeclaration identifier="X"'
               ' cardinality="single" baseType="integer"/>'),
         'item "q1": the QTI item uses template variables (cloned items)'),
        (item2(CHOICE2 + '<p><printedVariable identifier="X"/></p>', declaration2(["A"])),
         'item "q1": <printedVariable> shows template variables'),
        (item2(CHOICE2, declaration2(["A"]), processing2("map_response_point")),
         f'item "q1": the response processing template {TEMPLATE2}map_response_point is not'
         " one Kalan knows"),
        (item2(CHOICE2, declaration2(["A", "B"])),
         'item "q1": a single-choice response needs exactly one correct choice'),
        (item2(CHOICE2, declaration2([])),
         'item "q1": the response RESPONSE has no correct response and no mapping'),
        (item2(CHOICE2, declaration2(["A"], identifier="OTHER")),
         'item "q1": <choiceInteraction> answers RESPONSE, which no response declaration'),
        (item2("<table><tr><td>1</td></tr></table>" + CHOICE2, declaration2(["A"])),
         'item "q1": <table> is not something Kalan item text can hold'),
        (item2('<p><img src="pic.png"/></p>' + CHOICE2, declaration2(["A"])),
         'item "q1": the picture pic.png has no text alternative (alt)'),
        (item2('<p><img src="pic.svg" alt="x"/></p>' + CHOICE2, declaration2(["A"])),
         'item "q1": pic.svg is neither a picture (.gif, .jpeg, .jpg, .png, .webp) nor a sound'),
        (item2('<p><img src="http://example.org/pic.png" alt="x"/></p>' + CHOICE2,
               declaration2(["A"])),
         'item "q1": http://example.org/pic.png is not a file inside the package'),
        (item2('<p><img src="../pic.png" alt="x"/></p>' + CHOICE2, declaration2(["A"])),
         'item "q1": ../pic.png is not a file inside the package'),
        (item2('<p><object type="video/mp4" data="film.mp4">A film</object></p>' + CHOICE2,
               declaration2(["A"])),
         'item "q1": film.mp4 is neither a picture'),
        (item2('<p style="x" onclick="y()"><em>ok</em></p>' + CHOICE2.replace(
            ">a<", "><script>alert(1)</script><"), declaration2(["A"])),
         'item "q1": <script> is not something Kalan item text can hold'),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><assessmentItem/>',
         "the QTI item declares a document type (DTD), which Kalan does not accept"),
        (b"<assessmentItem><itemBody>", "the QTI item is not well-formed XML"),
        (b'<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"/>',
         "the QTI item is not a QTI assessment item (its root element is <manifest>)"),
    ],
)  # fmt: skip
def test_what_kalan_cannot_take_is_refused_with_the_item_and_the_reason(xml, message):
    with pytest.raises(ExerciseError) as caught:
        convert_qti_item(xml)
    assert str(caught.value).startswith(message), str(caught.value)


def test_attributes_outside_the_allow_list_are_dropped_and_the_language_kept():
    xml = item2(
        '<div class="x"><p style="color:red" xml:lang="bm" data-x="1"><i>I ni ce</i>'
        '<a href="http://example.org">link</a></p><h2>Title</h2></div>' + CHOICE2,
        declaration2(["A"]),
    )
    assert convert_qti_item(xml).item.prompt == (
        '<p lang="bm"><em>I ni ce</em>link</p><p>Title</p>'
    )


# ---------------------------------------------------------------- packages


MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" identifier="pkg">
  <resources>
    <resource identifier="test" type="imsqti_test_xmlv2p2" href="test.xml"/>
    <resource identifier="i1" type="imsqti_item_xmlv2p2" href="items/one.xml"/>
    <resource identifier="i2" type="imsqti_item_xmlv3p0" href="items/two.xml"/>
    <resource identifier="css" type="webcontent" href="style.css"/>
  </resources>
</manifest>"""
TEST = '<assessmentTest xmlns="http://www.imsglobal.org/xsd/imsqti_v2p2" title="Fractions"/>'


def package_files() -> dict[str, bytes]:
    one = item2(
        '<p><img src="../media/pie.png" alt="A pie cut in two"/></p>' + CHOICE2,
        declaration2(["A"]),
        **{"xml:lang": "fr"},
    )
    two = item3(
        '<p>Un <span xml:lang="bm">dɔ</span> : <qti-text-entry-interaction'
        ' response-identifier="R"/></p>',
        declaration3(["1"], base="integer", identifier="R"),
        **{"xml:lang": "bm"},
    )
    return {
        "imsmanifest.xml": MANIFEST.encode(),
        "test.xml": TEST.encode(),
        "items/one.xml": one,
        "items/two.xml": two,
        "media/pie.png": b"\x89PNG pie",
        "style.css": b"p {}",
    }


def check_package(result):
    exercise = result.exercise
    assert exercise.title == "Fractions"
    assert exercise.language == "fr"
    assert [item.id for item in exercise.items] == ["q1", "q1-2"]
    assert [item.language for item in exercise.items] == ["", "bm"]
    first, second = exercise.items
    assert [m.src for m in first.media] == ["media/pie.png"]
    assert second.prompt == '<p>Un <span lang="bm">dɔ</span> : {{R}}</p>'
    assert result.files == (("media/pie.png", b"\x89PNG pie"),)


def test_a_package_folder_becomes_one_exercise(tmp_path):
    for name, data in package_files().items():
        (tmp_path / "pkg" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pkg" / name).write_bytes(data)
    check_package(import_qti(tmp_path / "pkg"))


def test_a_package_zip_with_one_top_folder_becomes_one_exercise(tmp_path):
    path = tmp_path / "fractions.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in package_files().items():
            archive.writestr(f"fractions/{name}", data)
    result = import_qti(path)
    check_package(result)
    assert import_qti(path, title="Mes fractions").exercise.title == "Mes fractions"


def test_a_saved_import_is_a_valid_exercise_for_the_build(tmp_path):
    for name, data in package_files().items():
        (tmp_path / "pkg" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pkg" / name).write_bytes(data)
    result = import_qti(tmp_path / "pkg")
    path = save_qti_import(result, tmp_path / "source", "fractions")
    assert path.name == "fractions.exercise.json"
    assert (tmp_path / "source" / "media" / "pie.png").read_bytes() == b"\x89PNG pie"
    assert load_exercise(path.read_bytes()) == result.exercise
    inspection = inspect_file(path)
    assert inspection.options == {"item_count": 2, "media": ["media/pie.png"]}
    assert json.loads(path.read_text(encoding="utf-8"))["title"] == "Fractions"


def test_a_single_item_file_with_its_picture(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "sign.png").write_bytes(b"png")
    (tmp_path / "choice.xml").write_bytes(
        item2('<p><img src="images/sign.png" alt="Sign"/></p>' + CHOICE2, declaration2(["A"]))
    )
    result = import_qti(tmp_path / "choice.xml")
    assert result.exercise.title == "A question"
    assert result.files == (("images/sign.png", b"png"),)


def test_package_refusals(tmp_path):
    files = package_files()
    files["imsmanifest.xml"] = MANIFEST.replace("items/two.xml", "items/three.xml").encode()
    zipped = tmp_path / "missing.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(ExerciseError, match=r"^items/three\.xml is not in the package"):
        import_qti(zipped)
    files = package_files()
    files["items/two.xml"] = item3('<qti-hotspot-interaction response-identifier="R"/>')
    with zipfile.ZipFile(zipped, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(ExerciseError) as caught:
        import_qti(zipped)
    assert str(caught.value) == (
        'items/two.xml: item "q1": <qti-hotspot-interaction> is an interaction Kalan cannot'
        " import (it takes: qti-associate-interaction, qti-choice-interaction,"
        " qti-extended-text-interaction, qti-inline-choice-interaction, qti-match-interaction,"
        " qti-order-interaction, qti-text-entry-interaction)"
    )
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "imsmanifest.xml").write_text(
        '<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"><resources>'
        '<resource type="webcontent" href="a.html"/></resources></manifest>'
    )
    with pytest.raises(ExerciseError, match="lists no QTI items"):
        import_qti(folder)
    (folder / "imsmanifest.xml").write_text(
        '<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"><resources>'
        '<resource type="imsqti_item_xmlv2p2" href="../outside.xml"/></resources></manifest>'
    )
    (tmp_path / "outside.xml").write_bytes(item2(CHOICE2, declaration2(["A"])))
    with pytest.raises(ExerciseError, match=r"\.\./outside\.xml is not in the package"):
        import_qti(folder)
    unsafe = tmp_path / "unsafe.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("imsmanifest.xml", MANIFEST)
        archive.writestr("../evil.xml", "x")
    unsafe.write_bytes(buffer.getvalue())
    with pytest.raises(InvalidFile, match="a path that is not allowed"):
        import_qti(unsafe)


def test_pictures_in_feedback_are_left_out_and_said():
    xml = item2(
        CHOICE2,
        declaration2(["A"]),
        '<modalFeedback outcomeIdentifier="FEEDBACK" identifier="correct" showHide="show">'
        '<p>Yes <img src="star.png" alt="A star"/></p></modalFeedback>',
    )
    converted = convert_qti_item(xml)
    assert converted.item.feedback.correct == "<p>Yes </p>"
    assert converted.notes == ('the pictures and sounds in feedback of item "q1" were left out',)
