"""Captions: the WPT WebVTT parsing vectors, SubRip conversion, and properties of both."""

import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalan.content.inspect import InvalidFile, caption_cues, caption_to_vtt, inspect_file
from kalan.content.inspect.webvtt_parser import decode, parse_webvtt
from kalan.content.tests.corpus import corpus_root

VECTORS = corpus_root() / "webvtt" / "wpt-file-parsing"
CUE_TEXT_VECTORS = corpus_root() / "webvtt" / "wpt-cue-text-parsing"
PROPERTIES = {
    "id": "identifier",
    "text": "text",
    "startTime": "start",
    "endTime": "end",
    "align": "align",
    "region": "region",
}


def _expectations():
    listing = VECTORS / "expectations.json"
    if not listing.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no {listing}"), id="no-corpus")]
    expectations = json.loads(listing.read_text())
    return [
        pytest.param(expected, id=name)
        for name, expected in sorted(expectations.items())
        if expected["expected_cue_count"] is not None
    ]


@pytest.mark.parametrize("expected", _expectations())
def test_every_wpt_file_parsing_vector_gives_its_cues(expected):
    parsed = parse_webvtt(decode((VECTORS / expected["vtt"]).read_bytes()))
    assert parsed.is_webvtt
    assert len(parsed.cues) == expected["expected_cue_count"]
    for check in expected["simple_expectations"]:
        cue = parsed.cues[check["cue"]]
        assert getattr(cue, PROPERTIES[check["property"]]) == check["equals"], check


@pytest.mark.parametrize("expected", _expectations())
def test_caption_import_accepts_vectors_with_cues_and_refuses_those_without(expected):
    path = VECTORS / expected["vtt"]
    if expected["expected_cue_count"]:
        assert caption_to_vtt(path) == path.read_bytes()
        assert len(caption_cues(path)) == expected["expected_cue_count"]
    else:
        with pytest.raises(InvalidFile, match="holds no valid cue"):
            caption_to_vtt(path)


def test_the_vectors_the_checks_above_rely_on_are_all_there():
    if not VECTORS.is_dir():
        pytest.skip(f"the WebVTT corpus is not at {VECTORS} (set KALAN_CORPUS)")
    listed = {
        expected["vtt"]
        for expected in json.loads((VECTORS / "expectations.json").read_text()).values()
    }
    assert listed == {path.name for path in VECTORS.glob("*.vtt")}
    assert len(listed) == 37


@pytest.mark.parametrize("name", ["entities", "tags", "text", "timestamps", "tree-building"])
def test_cue_text_vectors_keep_each_cue_and_its_plain_text(name):
    if not CUE_TEXT_VECTORS.is_dir():
        pytest.skip(f"the WebVTT corpus is not at {CUE_TEXT_VECTORS} (set KALAN_CORPUS)")
    cases = json.loads((CUE_TEXT_VECTORS / f"{name}.json").read_text())
    cues = caption_cues(CUE_TEXT_VECTORS / f"{name}.vtt")
    raw = parse_webvtt(decode((CUE_TEXT_VECTORS / f"{name}.vtt").read_bytes())).cues
    assert len(cues) == len(raw) == len(cases)
    for case, cue, parsed in zip(cases, cues, raw, strict=True):
        # A cue's text ends at the first blank line; NUL becomes U+FFFD.
        expected_text = case["text"].replace("\x00", "\ufffd").split("\n\n")[0].rstrip("\n")
        assert parsed.text == expected_text
        # The plain text is the concatenation of the text nodes of the expected tree.
        nodes = re.findall(r'^\|\s*"(.*?)"$', case["expectedTree"], re.MULTILINE | re.DOTALL)
        assert cue.text == "".join(nodes), case


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"WEBVT",
        b"WEBVTTX\n\n00:00.000 --> 00:01.000\nx\n",
        b"webvtt\n\n00:00.000 --> 00:01.000\nx\n",
        b" WEBVTT\n\n00:00.000 --> 00:01.000\nx\n",
        b"\xef\xbb\xbf\xef\xbb\xbfWEBVTT\n\n00:00.000 --> 00:01.000\nx\n",
        b"1\n00:00:00,000 --> 00:00:01,000\nthis is SubRip\n",
        b"WEBVTT-\n\n00:00.000 --> 00:01.000\nx\n",
    ],
    ids=["empty", "short", "suffix", "lowercase", "leading-space", "two-boms", "srt", "dash"],
)
def test_files_that_are_not_webvtt_are_refused(tmp_path, content):
    assert not parse_webvtt(decode(content)).is_webvtt
    path = tmp_path / "captions.vtt"
    path.write_bytes(content)
    with pytest.raises(InvalidFile, match="does not start with the WEBVTT signature"):
        caption_to_vtt(path)


def test_a_byte_order_mark_is_dropped_from_checked_webvtt(tmp_path):
    path = tmp_path / "fr.vtt"
    path.write_bytes(b"\xef\xbb\xbfWEBVTT\n\n00:00.000 --> 00:01.000\n\xc3\x89cole\n")
    assert caption_to_vtt(path) == b"WEBVTT\n\n00:00.000 --> 00:01.000\n\xc3\x89cole\n"
    assert [cue.text for cue in caption_cues(path)] == ["École"]


def test_captions_that_are_not_utf8_or_not_captions_are_refused(tmp_path):
    latin1 = tmp_path / "fr.vtt"
    latin1.write_bytes("WEBVTT\n\n00:00.000 --> 00:01.000\nÉcole\n".encode("cp1252"))
    with pytest.raises(InvalidFile, match="not UTF-8 text; save it again"):
        caption_to_vtt(latin1)
    other = tmp_path / "fr.txt"
    other.write_text("WEBVTT\n")
    with pytest.raises(InvalidFile, match=r"\.vtt \(WebVTT\) or \.srt \(SubRip\)"):
        caption_to_vtt(other)
    with pytest.raises(InvalidFile, match="captions are not a resource on their own"):
        inspect_file(latin1)


SRT = """1
00:00:01,500 --> 00:00:04,000
{\\an8}Bonjour <i>les enfants</i> !
<font color="#ffff00">R&D</font> 3 < 4

2
00:00:05,000 --> 00:00:07,250 X1:40 X2:600
Le chat --> la souris

3
00:01:02,5 --> 01:00:00,000
Fin
"""

VTT = """WEBVTT

1
00:00:01.500 --> 00:00:04.000
Bonjour <i>les enfants</i> !
R&amp;D 3 &lt; 4

2
00:00:05.000 --> 00:00:07.250
Le chat --&gt; la souris

3
00:01:02.500 --> 01:00:00.000
Fin
"""


def test_srt_is_converted_to_webvtt(tmp_path):
    path = tmp_path / "lesson.fr.srt"
    path.write_text(SRT, encoding="utf-8")
    assert caption_to_vtt(path).decode() == VTT
    assert [(cue.start, cue.end, cue.text) for cue in caption_cues(path)] == [
        (1.5, 4.0, "Bonjour les enfants !\nR&D 3 < 4"),
        (5.0, 7.25, "Le chat --> la souris"),
        (62.5, 3600.0, "Fin"),
    ]


def test_srt_in_utf16_with_crlf_and_a_bom_is_converted(tmp_path):
    path = tmp_path / "lesson.srt"
    path.write_bytes(SRT.replace("\n", "\r\n").encode("utf-16"))
    assert caption_to_vtt(path).decode() == VTT


def test_srt_blank_lines_inside_a_cue_continue_it(tmp_path):
    path = tmp_path / "lesson.srt"
    path.write_text(
        "1\n00:00:01,000 --> 00:00:02,000\nfirst\n\nsecond\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\nthird\n"
    )
    assert [cue.text for cue in caption_cues(path)] == ["first\nsecond", "third"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "holds no subtitle"),
        ("\n\n  \n", "holds no subtitle"),
        ("Hello\n00:00:01,000 --> 00:00:02,000\nx\n", "line 1: expected a timing"),
        ("1\n00:00:01,000 -> 00:00:02,000\nx\n", "line 1: expected a timing"),
        ("\n\n1\n00:61:01,000 --> 00:62:02,000\nx\n", "line 4: minutes and seconds"),
    ],
)
def test_broken_srt_is_refused_with_the_line(tmp_path, content, reason):
    path = tmp_path / "lesson.srt"
    path.write_text(content)
    with pytest.raises(InvalidFile, match=reason):
        caption_to_vtt(path)


_TEXT_LINE = (
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="<{"
        ),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)
_CUES = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=100 * 3600 * 1000),
        st.integers(min_value=0, max_value=3600 * 1000),
        st.lists(_TEXT_LINE, min_size=1, max_size=3),
    ),
    min_size=1,
    max_size=8,
)


def _srt_time(milliseconds):
    seconds, fraction = divmod(milliseconds, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d},{fraction:03d}"


@settings(max_examples=150, deadline=None)
@given(cues=_CUES)
def test_srt_to_vtt_keeps_every_cue_time_and_text(cues):
    blocks = [
        f"{number}\n{_srt_time(start)} --> {_srt_time(start + length)}\n" + "\n".join(lines)
        for number, (start, length, lines) in enumerate(cues, 1)
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "captions.srt"
        path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        converted = caption_cues(path)
    assert [(cue.start, cue.end, cue.text) for cue in converted] == [
        (start / 1000, (start + length) / 1000, "\n".join(lines)) for start, length, lines in cues
    ]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.text(alphabet="WEBVT 0123456789:.->\n\r\t\x00abc,", max_size=200).map(str.encode),
        st.text(alphabet="0123456789:.,->\n\r abc", max_size=200).map(
            lambda t: b"WEBVTT\n\n" + t.encode()
        ),
    ),
    suffix=st.sampled_from([".vtt", ".srt"]),
)
def test_any_bytes_give_captions_with_cues_or_a_clear_refusal(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"captions{suffix}"
        path.write_bytes(data)
        try:
            vtt = caption_to_vtt(path)
        except InvalidFile as error:
            refusal = str(error)
        else:
            refusal = ""
    if refusal:
        assert "\n" not in refusal
        return
    parsed = parse_webvtt(decode(vtt))
    assert parsed.is_webvtt
    assert parsed.cues
