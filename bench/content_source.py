"""The synthetic channel of the content import benchmark: a deterministic folder tree of
PDFs, HTML5 zips and MP4-shaped videos of random bytes."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import random
import shutil
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from content_harness import (
    MIB,
    log,
)

# =========================================================================== synthetic source
SUBJECTS = [
    "mathematics",
    "sciences",
    "french",
    "english",
    "history",
    "geography",
    "civics",
    "arts",
    "health",
    "computing",
]
WORDS = (
    "water river field school market number fraction triangle plant seed animal body health "
    "map country region village history king treaty poem story letter grammar verb noun "
    "energy light sound force machine circuit computer drawing music dance rights family"
).split()


@dataclass
class SourceSpec:
    seed: int = 1
    files: int = 5000
    size: int = 1 << 30
    videos: int = 8
    video_mib: tuple[int, int] = (50, 100)
    units: int = 8  # topics per subject

    @property
    def key(self) -> str:
        lo, hi = self.video_mib
        return f"s{self.seed}-n{self.files}-b{self.size}-v{self.videos}x{lo}-{hi}-u{self.units}"


def plan_source(spec: SourceSpec) -> list[dict]:
    """Which files, where, of which kind and size. Deterministic from spec."""
    rng = random.Random(f"plan:{spec.key}")
    lo, hi = spec.video_mib
    video_sizes = [rng.randint(lo * MIB, hi * MIB) for _ in range(spec.videos)]
    n_small = spec.files - spec.videos
    if n_small < 0:
        raise SystemExit("--videos is larger than --files")
    kinds = ["pdf" if rng.random() < 0.55 else "html5" for _ in range(n_small)]
    raw = [rng.lognormvariate(math.log(60e3 if k == "pdf" else 40e3), 1.1) for k in kinds]
    budget = spec.size - sum(video_sizes)
    if n_small and budget < n_small * 8192:
        raise SystemExit("--size too small for that many files next to the videos")
    scale = budget / sum(raw) if raw else 1.0
    small = [max(6 * 1024, min(int(x * scale), 16 * MIB)) for x in raw]
    topics = [(s, u) for s in range(len(SUBJECTS)) for u in range(spec.units)]
    entries: list[dict] = []
    slots: dict[tuple[int, int], int] = {}
    items = [("video", sz) for sz in video_sizes] + list(zip(kinds, small, strict=False))
    order = list(range(len(items)))
    rng.shuffle(order)
    for n, i in enumerate(order):
        kind, size = items[i]
        t = topics[n % len(topics)] if kind != "video" else rng.choice(topics)
        slots[t] = slots.get(t, 0) + 1
        s, u = t
        word = WORDS[rng.randrange(len(WORDS))]
        ext = {"video": "mp4", "pdf": "pdf", "html5": "zip"}[kind]
        label = {"video": "video", "pdf": "lesson", "html5": "activity"}[kind]
        name = f"{slots[t]:03d}-{label}-{word}.{ext}"
        rel = f"{s + 1:02d}-{SUBJECTS[s]}/unit-{u + 1:02d}/{name}"
        entries.append({"path": rel, "kind": kind, "size": size})
    entries.sort(key=lambda e: e["path"])
    return entries


def _box(kind: bytes, payload: bytes) -> bytes:
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def write_mp4(f, size: int, rng: random.Random, hashes) -> None:
    """ISO-BMFF: ftyp, moov(mvhd with a duration), mdat of incompressible random bytes. Not
    playable (no tracks), but structurally valid and sized like a real lesson video."""
    ftyp = _box(b"ftyp", b"isom" + (512).to_bytes(4, "big") + b"isomiso2avc1mp41")
    duration_ms = int(size / (1_000_000 / 8) * 1000)  # about 1 Mbit/s
    matrix = b"".join(
        x.to_bytes(4, "big") for x in (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    )
    mvhd = _box(
        b"mvhd",
        b"\0\0\0\0"
        + (0).to_bytes(4, "big") * 2
        + (1000).to_bytes(4, "big")
        + duration_ms.to_bytes(4, "big")
        + (0x10000).to_bytes(4, "big")
        + (0x100).to_bytes(2, "big")
        + b"\0" * 10
        + matrix
        + b"\0" * 24
        + (2).to_bytes(4, "big"),
    )
    head = ftyp + _box(b"moov", mvhd)
    payload = size - len(head) - 8
    out = head + (8 + payload).to_bytes(4, "big") + b"mdat"
    for h in hashes:
        h.update(out)
    f.write(out)
    left = payload
    while left > 0:
        block = rng.randbytes(min(left, 4 * MIB))
        for h in hashes:
            h.update(block)
        f.write(block)
        left -= len(block)


def _pdf(title: str, pages: list[bytes], body: list[str]) -> bytes:
    """A small valid PDF 1.4: one page per image (random RGB pixels: incompressible, like a
    scanned page), with a line of text above it."""
    objs: list[bytes] = []
    n = len(pages)
    kids = " ".join(f"{5 + 3 * i} 0 R" for i in range(n))
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    objs.append(
        f"<< /Title ({title}) /Author (Kalan bench) /Producer (bench/content_import.py) >>".encode()
    )
    for i, img in enumerate(pages):
        _pobj, cobj, iobj = 5 + 3 * i, 6 + 3 * i, 7 + 3 * i
        h = len(img) // (256 * 3)
        objs.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font "
            f"<< /F1 3 0 R >> /XObject << /Im{i} {iobj} 0 R >> >> /Contents {cobj} 0 R >>".encode()
        )
        text = body[i % len(body)]
        scale_h = max(1, min(640, h * 480 // 256))
        content = (
            f"BT /F1 16 Tf 56 780 Td ({title} - page {i + 1}) Tj ET\n"
            f"BT /F1 10 Tf 56 760 Td ({text}) Tj ET\n"
            f"q 480 0 0 {scale_h} 56 {740 - scale_h} cm /Im{i} Do Q\n"
        ).encode()
        objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        objs.append(
            b"<< /Type /XObject /Subtype /Image /Width 256 /Height %d /ColorSpace /DeviceRGB "
            b"/BitsPerComponent 8 /Length %d >>\nstream\n" % (h, len(img)) + img + b"\nendstream"
        )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body_ in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body_ + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objs) + 1, xref)
    )
    return out.getvalue()


def make_pdf(title: str, size: int, rng: random.Random) -> bytes:
    body = [" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(4)]
    base = len(_pdf(title, [b"\0" * 768], body))
    room = max(768, size - base)
    per_page = 768 * 1366  # about 1 MiB of pixels per page
    n_pages = max(1, math.ceil(room / per_page))
    rows = max(1, (room // 768 - (n_pages - 1) * 360) // n_pages)  # page overhead ~ 360 B
    pages = [rng.randbytes(768 * rows) for _ in range(n_pages)]
    return _pdf(title, pages, body)


FIXED_DATE = (2026, 1, 1, 0, 0, 0)


def make_html5(title: str, size: int, rng: random.Random) -> bytes:
    """A zip with index.html, style.css, app.js and stored (incompressible) media blobs."""
    paras = "\n".join(
        f"<p>{' '.join(rng.choice(WORDS) for _ in range(rng.randint(30, 90)))}.</p>"
        for _ in range(rng.randint(5, 25))
    )
    index = (
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="stylesheet" href="style.css"></head><body><h1>{title}</h1>{paras}'
        f'<script src="app.js"></script></body></html>'
    ).encode()
    css = b"body{font-family:sans-serif;margin:2rem;max-width:40rem}h1{color:#234}\n" * 3
    js = b"document.querySelectorAll('p').forEach(function(p,i){p.dataset.i=i});\n"

    def build(media: int) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for name, data, method in (
                ("index.html", index, zipfile.ZIP_DEFLATED),
                ("style.css", css, zipfile.ZIP_DEFLATED),
                ("app.js", js, zipfile.ZIP_DEFLATED),
            ):
                zi = zipfile.ZipInfo(name, FIXED_DATE)
                zi.compress_type = method
                z.writestr(zi, data)
            left, k = media, 0
            while left > 0:
                part = min(left, 512 * 1024)
                zi = zipfile.ZipInfo(f"media/clip-{k:02d}.bin", FIXED_DATE)
                z.writestr(zi, rng_media.randbytes(part))
                left -= part
                k += 1
        return buf.getvalue()

    state = rng.getstate()
    rng_media = random.Random()
    rng_media.setstate(state)
    base = len(build(0))
    media = max(0, size - base - 100)
    rng_media.setstate(state)
    return build(media)


def generate_source(spec: SourceSpec, cache: Path) -> tuple[Path, dict]:
    """The synthetic channel source folder, generated once per spec and reused."""
    src = cache / f"src-{spec.key}"
    stamp = cache / f"src-{spec.key}.json"
    if src.is_dir() and stamp.exists():
        meta = json.loads(stamp.read_text())
        log(f"source: reusing {src} ({meta['files_count']} files, {meta['bytes']:,} B)")
        return src, meta
    tmp = cache / f"src-{spec.key}.part"
    if tmp.exists():
        shutil.rmtree(tmp)
    if src.exists():
        shutil.rmtree(src)
    entries = plan_source(spec)
    log(f"source: generating {len(entries)} files into {src}")
    t0 = time.perf_counter()
    for e in entries:
        path = tmp / e["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        rng = random.Random(f"{spec.seed}:{e['path']}")
        md5, sha = hashlib.md5(), hashlib.sha256()
        title = Path(e["path"]).stem.replace("-", " ")
        with open(path, "wb") as f:
            if e["kind"] == "video":
                write_mp4(f, e["size"], rng, (md5, sha))
            else:
                data = (make_pdf if e["kind"] == "pdf" else make_html5)(title, e["size"], rng)
                md5.update(data)
                sha.update(data)
                f.write(data)
        e["size"] = path.stat().st_size
        e["md5"], e["sha256"] = md5.hexdigest(), sha.hexdigest()
    os.replace(tmp, src)
    by_kind: dict[str, dict] = {}
    for e in entries:
        k = by_kind.setdefault(e["kind"], {"files": 0, "bytes": 0, "max": 0})
        k["files"] += 1
        k["bytes"] += e["size"]
        k["max"] = max(k["max"], e["size"])
    meta = {
        "spec": spec.__dict__ | {"video_mib": list(spec.video_mib)},
        "files_count": len(entries),
        "bytes": sum(e["size"] for e in entries),
        "by_kind": by_kind,
        "topics": len({str(Path(e["path"]).parent) for e in entries}),
        "generate_s": round(time.perf_counter() - t0, 1),
        "files": entries,
    }
    stamp.write_text(json.dumps(meta))
    log(f"source: {meta['bytes']:,} B in {len(entries)} files, {meta['generate_s']} s")
    return src, meta
