"""Video and audio: durations with and without ffprobe, poster frames with ffmpeg."""

import io
import shutil
import struct
import subprocess
import wave

import pytest
from PIL import Image

from kalan.content.inspect import InvalidFile, inspect_file

HAVE_FFMPEG = bool(shutil.which("ffmpeg") and shutil.which("ffprobe"))
needs_ffmpeg = pytest.mark.skipif(not HAVE_FFMPEG, reason="ffmpeg/ffprobe are not installed")


@pytest.fixture
def no_ffmpeg(monkeypatch):
    """As on a machine without ffmpeg: shutil.which finds neither tool."""
    real_which = shutil.which

    def which(name, *args, **kwargs):
        return None if name in {"ffmpeg", "ffprobe"} else real_which(name, *args, **kwargs)

    monkeypatch.setattr(shutil, "which", which)


def write_wav(path, seconds, rate=8000):
    with wave.open(str(path), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(rate)
        sound.writeframes(b"\x00\x00" * int(rate * seconds))
    return path


def box(kind, payload):
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mp4_bytes(timescale, duration, version=0):
    """ftyp, a large mdat first (as cameras write them), then moov with its mvhd."""
    if version == 0:
        header = struct.pack(">B3xIIII", 0, 0, 0, timescale, duration)
    else:
        header = struct.pack(">B3xQQIQ", 1, 0, 0, timescale, duration)
    mvhd = box(b"mvhd", header + b"\x00" * 80)
    moov = box(b"moov", box(b"free", b"") + mvhd + box(b"trak", b"\x00" * 16))
    return box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41") + box(b"mdat", b"\x00" * 5000) + moov


def test_wav_duration_without_ffprobe(tmp_path, no_ffmpeg):
    inspection = inspect_file(write_wav(tmp_path / "chanson.wav", 3))
    assert (inspection.kind, inspection.duration, inspection.thumbnail) == ("audio", 3, None)
    assert inspect_file(write_wav(tmp_path / "bip.wav", 0.3)).duration == 1


@pytest.mark.parametrize("version", [0, 1])
def test_mp4_duration_from_the_movie_header_without_ffprobe(tmp_path, no_ffmpeg, version):
    path = tmp_path / "cours.mp4"
    path.write_bytes(mp4_bytes(timescale=600, duration=600 * 125 + 299, version=version))
    inspection = inspect_file(path)
    assert (inspection.kind, inspection.duration) == ("video", 125)
    audio = tmp_path / "cours.m4a"
    audio.write_bytes(mp4_bytes(timescale=44100, duration=44100 * 61, version=version))
    assert inspect_file(audio).duration == 61


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("cours.mp4", b"not a video at all"),
        ("cours.mp4", struct.pack(">I4s", 0xFFFFFFFF, b"moov") + b"\x00" * 8),
        ("cours.webm", b"\x1aE\xdf\xa3 webm is not read without ffprobe"),
        ("chant.wav", b"RIFF\x00\x00\x00\x00WAVEdata"),
        ("chant.mp3", b"ID3 whatever"),
    ],
    ids=["text", "huge-box", "webm", "wav-without-format", "mp3"],
)
def test_without_ffprobe_unknown_durations_are_none_and_nothing_is_refused(
    tmp_path, no_ffmpeg, name, content
):
    path = tmp_path / name
    path.write_bytes(content)
    assert inspect_file(path).duration is None


def test_an_empty_media_file_is_refused(tmp_path):
    path = tmp_path / "cours.mp4"
    path.write_bytes(b"")
    with pytest.raises(InvalidFile, match="the file is empty"):
        inspect_file(path)


@needs_ffmpeg
def test_ffprobe_duration_codecs_and_a_poster_frame(tmp_path):
    path = tmp_path / "lesson.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=3:size=1280x720:rate=10",
         "-c:v", "mpeg4", "-y", str(path)],
        check=True,
    )  # fmt: skip
    inspection = inspect_file(path)
    assert inspection.duration == 3
    assert inspection.options["video_codec"] == "mpeg4"
    assert (inspection.options["width"], inspection.options["height"]) == (1280, 720)
    assert inspection.thumbnail_ext == "jpg"
    assert inspection.thumbnail is not None
    with Image.open(io.BytesIO(inspection.thumbnail)) as image:
        assert image.size == (480, 270)


@needs_ffmpeg
def test_ffprobe_refuses_a_file_that_is_not_media(tmp_path):
    path = tmp_path / "lesson.mp4"
    path.write_bytes(b"This is a lesson plan, not a video.\n" * 100)
    with pytest.raises(InvalidFile, match="ffprobe cannot read it as audio or video"):
        inspect_file(path)


@needs_ffmpeg
def test_ffprobe_audio_duration(tmp_path):
    inspection = inspect_file(write_wav(tmp_path / "chanson.wav", 4))
    assert inspection.duration == 4
    assert inspection.options["audio_codec"] == "pcm_s16le"
    assert inspection.thumbnail is None
