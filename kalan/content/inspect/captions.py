"""Caption files: WebVTT checked the way browsers read it, SubRip (SRT) converted to WebVTT.

Captions must be UTF-8 (WebVTT allows nothing else). An SRT file in UTF-16 with
a byte-order mark is converted too; one in a legacy 8-bit encoding is refused
with a request to save it as UTF-8, since guessing (Windows-1252? -1251?) would
silently garble French or Tajik text.
"""

import html
import re
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from kalan.content.inspect.inspection import InvalidFile
from kalan.content.inspect.webvtt_parser import parse_webvtt

MAX_CAPTION_BYTES = 20 * 1024 * 1024
_SRT_TIME = r"(\d{1,9}):(\d{1,2}):(\d{1,2})(?:[,.](\d{1,3}))?"
_SRT_TIMING = re.compile(rf"^\s*{_SRT_TIME}\s*-->\s*{_SRT_TIME}(\s.*)?$")
_SRT_INDEX = re.compile(r"[0-9]+")
_ASS_OVERRIDE = re.compile(r"\{\\[^}]*\}")  # {\an8} and friends, left by converters
# SubRip styling that WebVTT shares is kept; <font> has no WebVTT equivalent and is dropped.
_SRT_TAG = re.compile(r"(</?[ibu]>|</?font\b[^>]*>)", re.IGNORECASE)
_CUE_TAG = re.compile(r"<[^>]*(>|$)")


@dataclass(frozen=True)
class CaptionCue:
    start: float
    end: float
    text: str  # plain text: tags removed, character references decoded


def caption_to_vtt(path: Path) -> bytes:
    """WebVTT bytes for a .vtt (checked, returned as is but for a leading byte-order mark)
    or a .srt (converted) file.

    Raises InvalidFile for another extension, a file that is not UTF-8, a .vtt
    without the WEBVTT signature, or a file without any valid cue.
    """
    suffix = path.suffix.lower()
    if suffix not in {".vtt", ".srt"}:
        raise InvalidFile(_("captions must be a .vtt (WebVTT) or .srt (SubRip) file"))
    data = _read(path)
    if suffix == ".srt":
        return srt_to_vtt(_decode(data, allow_utf16=True)).encode()
    _check_vtt(_decode(data, allow_utf16=False))
    return data.removeprefix(b"\xef\xbb\xbf")


def caption_cues(path: Path) -> list[CaptionCue]:
    """The cues of a .vtt or .srt file with plain text, in file order (for search and tests).

    Raises InvalidFile as caption_to_vtt does.
    """
    parsed = parse_webvtt(caption_to_vtt(path).decode("utf-8").removeprefix("\ufeff"))
    return [CaptionCue(cue.start, cue.end, cue_plain_text(cue.text)) for cue in parsed.cues]


def captions_text(vtt: bytes) -> str:
    """The words of every cue of a WebVTT file, for search (ids, timings and tags left out)."""
    parsed = parse_webvtt(vtt.decode("utf-8", "replace").removeprefix("\ufeff"))
    return " ".join(cue_plain_text(cue.text) for cue in parsed.cues)


def cue_plain_text(text: str) -> str:
    """Cue text without its tags (<i>, <v Name>, <00:01.000>...) and with entities decoded."""
    return html.unescape(_CUE_TAG.sub("", text))


def srt_to_vtt(text: str) -> str:
    """Convert SubRip text to WebVTT. Raises InvalidFile when no cue can be read.

    Cue numbers become cue identifiers; text is escaped (&, <, >) but its <i>,
    <b> and <u> tags are kept; <font> tags and ASS override codes such as {\\an8}
    are dropped; a block without a timing line continues the cue before it
    (some tools leave blank lines inside cues).
    """
    cues: list[tuple[str, str, str, list[str]]] = []
    for number, lines in _srt_blocks(text):
        index = ""
        if (
            len(lines) > 1
            and _SRT_INDEX.fullmatch(lines[0].strip())
            and _SRT_TIMING.match(lines[1])
        ):
            index = lines.pop(0).strip()
        timing = _SRT_TIMING.match(lines[0]) if lines else None
        if timing is None:
            if not cues:
                raise InvalidFile(
                    _("line %(line)d: expected a timing such as 00:00:01,000 --> 00:00:04,000")
                    % {"line": number}
                )
            cues[-1][3].extend(_cue_lines(lines))
            continue
        line = number + (1 if index else 0)
        start = _vtt_time(_milliseconds(timing.groups()[0:4], line))
        end = _vtt_time(_milliseconds(timing.groups()[4:8], line))
        cues.append((index, start, end, _cue_lines(lines[1:])))
    if not cues:
        raise InvalidFile(_("the SubRip (.srt) file holds no subtitle"))
    blocks = [
        "\n".join(filter(None, [index, f"{start} --> {end}", *lines]))
        for index, start, end, lines in cues
    ]
    vtt = "WEBVTT\n\n" + "\n\n".join(blocks) + "\n"
    _check_vtt(vtt)
    return vtt


def _read(path: Path) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(MAX_CAPTION_BYTES + 1)
    if len(data) > MAX_CAPTION_BYTES:
        raise InvalidFile(_("the caption file is larger than 20 MB"))
    return data


def _decode(data: bytes, *, allow_utf16: bool) -> str:
    if allow_utf16 and data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise InvalidFile(
            _("the caption file is not UTF-8 text; save it again with the UTF-8 encoding")
        ) from None


def _check_vtt(text: str) -> None:
    parsed = parse_webvtt(text)
    if not parsed.is_webvtt:
        raise InvalidFile(
            _("the file does not start with the WEBVTT signature, so it is not a WebVTT file")
        )
    if not parsed.cues:
        raise InvalidFile(
            _(
                "the WebVTT file holds no valid cue (a line such as 00:00:01.000 --> 00:00:04.000"
                " followed by its text)"
            )
        )


def _srt_blocks(text: str) -> list[tuple[int, list[str]]]:
    """Blocks of non-blank lines with the number of their first line."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if line.strip():
            if not current:
                blocks.append((number, current))
            current.append(line)
        else:
            current = []
    return blocks


def _cue_lines(lines: list[str]) -> list[str]:
    cleaned = (_srt_text_to_vtt(_ASS_OVERRIDE.sub("", line).strip()) for line in lines)
    return [line for line in cleaned if line]


def _srt_text_to_vtt(line: str) -> str:
    """SubRip text is plain: escape &, < and > (so `-->` cannot end the cue), keep <i>, <b>, <u>."""
    parts = []
    for number, part in enumerate(_SRT_TAG.split(line)):
        if number % 2 == 0:
            parts.append(html.escape(part, quote=False))
        elif not part.lower().startswith(("<font", "</font")):
            parts.append(part.lower())
    return "".join(parts)


def _milliseconds(parts: tuple[str | None, ...], line: int) -> int:
    hours, minutes, seconds = (int(part or 0) for part in parts[:3])
    if minutes > 59 or seconds > 59:
        raise InvalidFile(
            _("line %(line)d: minutes and seconds in a timing go up to 59") % {"line": line}
        )
    fraction = int((parts[3] or "0").ljust(3, "0"))
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + fraction


def _vtt_time(milliseconds: int) -> str:
    seconds, fraction = divmod(milliseconds, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{fraction:03d}"
