"""Video and audio: duration and a poster frame, with ffprobe and ffmpeg when installed.

Without ffprobe the duration comes from the container when that is cheap (see
media_container) and is otherwise unknown (None); without ffmpeg there is no
poster frame. A file is refused as not being audio or video only when ffprobe
is there to say so. The tools read the file themselves, by seeking: nothing is
loaded into memory here, whatever the size.
"""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from kalan.content.inspect.inspection import Inspection, InvalidFile, whole_seconds
from kalan.content.inspect.media_container import container_duration
from kalan.content.inspect.thumbnails import MAX_WIDTH, thumbnail_from_bytes

PROBE_TIMEOUT = 60
FRAME_TIMEOUT = 60
MAX_FRAME_BYTES = 10 * 1024 * 1024


def inspect_media(path: Path, kind: str) -> Inspection:
    """Duration (whole seconds or None), codecs and, for a video, a poster frame.

    Raises InvalidFile for an empty file or, when ffprobe is installed, a file
    it cannot read or that holds neither audio nor video.
    """
    if path.stat().st_size == 0:
        raise InvalidFile(_("the file is empty"))
    inspection = Inspection(kind=kind)
    ffprobe = shutil.which("ffprobe")
    if ffprobe:
        seconds, inspection.options = _probe(ffprobe, path)
    else:
        seconds = container_duration(path)
    inspection.duration = whole_seconds(seconds)
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg:
        thumbnail = _poster_frame(ffmpeg, path, seconds if kind == "video" else None)
        if thumbnail:
            inspection.thumbnail, inspection.thumbnail_ext = thumbnail
    return inspection


def _probe(ffprobe: str, path: Path) -> tuple[float | None, dict[str, Any]]:
    command = [
        ffprobe, "-v", "error", "-of", "json",
        "-show_entries", "format=duration,format_name:stream=codec_type,codec_name,width,height",
        str(path.absolute()),
    ]  # fmt: skip
    try:
        result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            command, capture_output=True, timeout=PROBE_TIMEOUT, check=False
        )
    except (subprocess.TimeoutExpired, OSError):
        return None, {}  # a slow or broken tool is no reason to refuse the file
    if result.returncode != 0:
        reason = _last_line(result.stderr.decode("utf-8", "replace"), path)
        raise InvalidFile(
            _("ffprobe cannot read it as audio or video (%(reason)s)") % {"reason": reason}
        )
    try:
        report = json.loads(result.stdout)
    except ValueError:
        return None, {}
    streams = [s for s in report.get("streams", []) if s.get("codec_type") in {"video", "audio"}]
    if not streams:
        raise InvalidFile(_("the file holds neither audio nor video"))
    return _seconds(report.get("format", {}).get("duration")), _codec_options(report, streams)


def _codec_options(report: dict[str, Any], streams: list[dict[str, Any]]) -> dict[str, Any]:
    video = next((s for s in streams if s["codec_type"] == "video"), {})
    audio = next((s for s in streams if s["codec_type"] == "audio"), {})
    options: dict[str, Any] = {
        "container": report.get("format", {}).get("format_name", ""),
        "video_codec": video.get("codec_name", ""),
        "audio_codec": audio.get("codec_name", ""),
    }
    if video.get("width") and video.get("height"):
        options["width"], options["height"] = int(video["width"]), int(video["height"])
    return options


def _seconds(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _last_line(stderr: str, path: Path) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    line = lines[-1] if lines else "no reason given"
    return line.replace(str(path.absolute()), path.name)[:200]


def _poster_frame(ffmpeg: str, path: Path, seconds: float | None) -> tuple[bytes, str] | None:
    """A JPEG frame one second in (or the cover picture of an audio file), or None."""
    seek = ["-ss", f"{min(1.0, seconds / 2):.3f}"] if seconds else []
    command = [
        ffmpeg, "-nostdin", "-v", "error", *seek, "-i", str(path.absolute()),
        "-frames:v", "1", "-vf", f"scale='min({MAX_WIDTH},iw)':-2",
        "-f", "image2pipe", "-vcodec", "mjpeg", "-",
    ]  # fmt: skip
    try:
        result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            command, capture_output=True, timeout=FRAME_TIMEOUT, check=False
        )
    except (subprocess.TimeoutExpired, OSError):
        return None
    if result.returncode != 0 or not result.stdout or len(result.stdout) > MAX_FRAME_BYTES:
        return None
    return thumbnail_from_bytes(result.stdout)
