#!/usr/bin/env python3.11
"""Library browse and search latency over a 20,000-resource channel, at c=10.

1. A fresh KALAN_HOME gets the demo school (`kalan demo`: 40 learners) and a generated,
   signed channel of 20,000 resources in 20 topics x 10 sub-topics (titles, descriptions and
   document text drawn from French, Bambara, Tajik and English words; grades, subjects and
   languages spread over the resources), imported with `kalan content import`.
2. `kalan start` serves it on 127.0.0.1; 40 learners sign in.
3. wrk (c=10, 2 threads) runs each scenario for --duration seconds, rotating the learners'
   session cookies and, for search, the queries: the library index, a sub-topic page
   (100 resources), a resource page, search by word (with and without diacritics), search
   with a filter, filter-only browse.
Repeated --rounds times; the report gives each scenario's median req/s and p95 over rounds.

Usage: python3.11 bench/content_search.py [--resources 20000] [--duration 15] [--rounds 3] [--kolibri]
With --kolibri, the same resources also go into Kolibri 0.19.5 (bench/.venv-kolibri), measured
after Kalan in the same run through the content API its learner pages call.
Writes bench/results/content-search-<date>.md. Needs wrk (Debian package `wrk`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import foundation as fb  # noqa: E402  (Server, run_wrk, login helpers)

REPO = fb.REPO
KALAN = REPO / ".venv" / "bin" / "kalan"
PYTHON = REPO / ".venv" / "bin" / "python"
WORK = fb.BENCH / ".work" / "content-search"
RESULTS = fb.BENCH / "results"
WORDS = (
    "élève leçon français école maître cahier lecture calcul nombre histoire géographie "
    "sɛbɛn kalan kalanso ɲɛnajɛ kɔrɔ dɔnniya jatebɔ kumakan baara denmisɛn "
    "мактаб китобҳо ҳисоб ҷавоб ғизо рӯз дарс омӯзгор забон таърих "
    "water river farming health peace numbers reading science map story"
).split()
GRADES = ["Pre-primary", "P1", "P2", "P3", "P4", "P5", "P6"]
SUBJECTS = ["Mathematics", "French", "Science", "History", "Life skills", "Tajik", "Bambara"]
LANGUAGES = ["fr", "bm", "tg", "ru", "en"]
KINDS = ["document", "video", "audio", "epub", "html5"]


def generate_package(folder: Path, resources: int, seed: int = 7, kolibri_src: Path | None = None) -> uuid.UUID:
    """Write a signed library folder with `resources` resources sharing five small files.

    With `kolibri_src`, also the same resources as a folder tree for bench/kolibri_channel.py
    (tTT/sSS/rRRRR.pdf, the same five contents) and kolibri_src/../kolibri-meta.json with their
    titles and descriptions."""
    gen = f"""
import json, random, uuid, hashlib, sys
from pathlib import Path
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from kalan.content.manifest import FORMAT, dump, public_key_text, sign
from kalan.content.store import LibraryFolder
words, grades, subjects, langs, kinds = {WORDS!r}, {GRADES!r}, {SUBJECTS!r}, {LANGUAGES!r}, {KINDS!r}
rng = random.Random({seed})
lib = LibraryFolder(Path({str(folder)!r}))
files, contents = [], []
for n in range(5):
    data = (f"bench file {{n}}\\n" * 200).encode()
    sha, size, _ = lib.install_bytes(data)
    files.append((sha, size))
    contents.append(data)
ksrc = {str(kolibri_src) if kolibri_src else ""!r}
kmeta = {{}}
channel = uuid.UUID("0b0e0c0a-0000-4000-8000-000000020000")
syllables = [c + v for c in "bdfgklmnprstwyz" for v in "aeiou"]
filler = sorted({{"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(8000)}})
weights = [1 / (rank + 1) ** 1.05 for rank in range(len(filler))]
def text(n):
    # Zipf-distributed filler words, and one of the real words about every 100th word.
    picked = rng.choices(filler, weights=weights, k=n)
    return " ".join(rng.choice(words) if rng.random() < 0.01 else w for w in picked)
count, topics = 0, []
per_sub = max(1, {resources} // 200)
for t in range(20):
    subs = []
    for s in range(10):
        children = []
        for r in range(per_sub):
            index = rng.randrange(len(files))
            sha, size = files[index]
            kind = rng.choice(kinds)
            title = (rng.choice(words) + " " + text(2)).capitalize() + f" {{count}}"
            description = text(20)
            if ksrc:
                rel = f"t{{t:02d}}/s{{s:02d}}/r{{r:04d}}.pdf"
                target = Path(ksrc) / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(contents[index])
                kmeta[rel] = {{"title": title, "description": description}}
            children.append({{
                "id": str(uuid.uuid5(channel, f"r{{t}}.{{s}}.{{r}}")), "kind": kind,
                "title": title, "description": description,
                "language": rng.choice(langs), "grade_levels": [rng.choice(grades)],
                "subjects": [rng.choice(subjects)], "curriculum_codes": [f"C{{t}}.{{s}}"],
                "licence": "CC BY 4.0", "author": "Bench", "attribution": "",
                "accessibility": [], "duration": None, "page_count": 3, "size": size,
                "thumbnail": None, "entry": "", "options": {{}}, "text": text(300),
                "files": [{{"sha256": sha, "size": size, "role": "main", "ext": "pdf",
                           "mime": "application/pdf"}}],
            }})
            count += 1
        subs.append({{"id": str(uuid.uuid5(channel, f"s{{t}}.{{s}}")), "kind": "topic",
                      "title": f"Unit {{t}}.{{s}} " + text(2), "children": children}})
    topics.append({{"id": str(uuid.uuid5(channel, f"t{{t}}")), "kind": "topic",
                    "title": f"Term {{t}} " + text(2), "children": subs}})
key = Ed25519PrivateKey.generate()
data = {{"format": FORMAT, "id": str(channel), "version": 1, "title": "Bench library",
        "description": "20,000 generated resources", "language": "fr", "licence": "CC BY 4.0",
        "publisher": {{"name": "Bench", "public_key": public_key_text(key)}},
        "root": {{"id": str(uuid.uuid5(channel, "root")), "kind": "topic",
                  "title": "Bench library", "children": topics}}}}
raw = dump(data)
lib.write_manifest(channel, raw, sign(raw, key))
if ksrc:
    (Path(ksrc).parent / "kolibri-meta.json").write_text(json.dumps(kmeta))
print(channel)
"""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kalan.config.settings.base"}
    env["KALAN_HOME"] = str(WORK / "gen-home")
    out = subprocess.run(
        [str(PYTHON), "-c", "import django; django.setup()\n" + gen],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=str(REPO),
    )
    return uuid.UUID(out.stdout.strip().splitlines()[-1])


def kalan(args: list[str], home: Path) -> str:
    env = {**os.environ, "KALAN_HOME": str(home)}
    env.pop("KALAN_DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [str(KALAN), *args], env=env, capture_output=True, text=True, timeout=3600
    )
    if result.returncode:
        raise RuntimeError(f"kalan {' '.join(args)}: {result.stderr[-2000:]}")
    return result.stdout


def node_ids(home: Path) -> dict[str, str]:
    code = (
        "import django; django.setup()\n"
        "from kalan.content.models import ContentNode\n"
        "sub = ContentNode.objects.filter(kind='topic', depth=2).order_by('path').first()\n"
        "res = ContentNode.objects.exclude(kind='topic').order_by('path')[ContentNode.objects.count() // 4]\n"
        "print(sub.id, res.id)\n"
    )
    env = {**os.environ, "KALAN_HOME": str(home), "DJANGO_SETTINGS_MODULE": "kalan.config.settings.base"}
    env.pop("KALAN_DATABASE_URL", None)
    out = subprocess.run([str(PYTHON), "-c", code], env=env, capture_output=True, text=True, check=True)
    topic, resource = out.stdout.split()
    return {"topic": topic, "resource": resource}


def scenarios(ids: dict[str, str]) -> dict[str, list[str]]:
    q = urllib.parse.quote
    words = ["eleve", "leçon", "kalanso", "nyenaje", "хисоб", "ҷавоб", "water", "histoire"]
    return {
        "library index": ["/library/"],
        "sub-topic (100 resources)": [f"/library/topic/{ids['topic']}/"],
        "resource page": [f"/library/resource/{ids['resource']}/"],
        "search one word": [f"/library/search/?q={q(w)}" for w in words],
        "search two words": [f"/library/search/?q={q(a + ' ' + b)}" for a, b in zip(words, words[1:])],
        "search + grade filter": [f"/library/search/?q={q(w)}&grade=P3" for w in words],
        "filter only (subject + language)": [
            f"/library/search/?subject={q(s)}&language={lang}"
            for s in SUBJECTS
            for lang in LANGUAGES[:2]
        ],
    }


def kolibri_scenarios(channel: str) -> dict[str, list[str]]:
    """Kolibri's learner pages are one HTML shell; what they fetch is its content API. The ids
    are those bench/kolibri_channel.py derives from the folder paths."""
    q = urllib.parse.quote

    def node(rel: str) -> str:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"kolibri-bench/{channel}/node/{rel}").hex

    words = ["eleve", "leçon", "kalanso", "nyenaje", "хисоб", "ҷавоб", "water", "histoire"]
    search = "/api/content/contentnode/?keywords={}&max_results=20"
    return {
        "sub-topic (100 resources)": [f"/api/content/contentnode/?parent={node('t00/s00')}"],
        "resource page": [f"/api/content/contentnode/{node('t05/s00/r0000.pdf')}/"],
        "search one word": [search.format(q(w)) for w in words],
        "search two words": [search.format(q(a + " " + b)) for a, b in zip(words, words[1:])],
    }


def prepare_kolibri(kolibri_src: Path, channel: uuid.UUID) -> tuple[fb.Kolibri, dict]:
    """A Kolibri home with 40 learners and the same resources (titles and descriptions)."""
    kolibri = fb.Kolibri()
    if not (kolibri.venv / "bin" / "kolibri").exists():
        raise SystemExit(f"{kolibri.venv} has no Kolibri: pip install kolibri=={fb.KOLIBRI_VERSION}")
    kolibri.home = WORK / "kolibri-home"
    info = kolibri.provision()
    drive, cid = WORK / "kolibri-drive", channel.hex
    built = subprocess.run(
        [str(kolibri.venv / "bin" / "python"), str(fb.BENCH / "kolibri_channel.py"), str(kolibri_src),
         str(drive), "--channel-id", cid, "--name", "Bench library",
         "--metadata", str(kolibri_src.parent / "kolibri-meta.json")],
        env=kolibri.env(), capture_output=True, text=True, check=True,
    )
    info["channel"] = json.loads([x for x in built.stdout.splitlines() if x.startswith("CHANNEL ")][-1][8:])
    t0 = time.perf_counter()
    kolibri.kolibri("manage", "importchannel", "disk", cid, str(drive), timeout=3600)
    kolibri.kolibri("manage", "importcontent", "disk", cid, str(drive), timeout=3600)
    info["import_s"] = round(time.perf_counter() - t0, 1)
    info["channel_id"] = cid
    return kolibri, info


def check_kolibri_answers(base: str, plans: dict[str, list[str]], cookie: str) -> dict[str, list[int]]:
    """How many nodes each Kolibri request returns (its pages must show something)."""
    counts: dict[str, list[int]] = {}
    for name, paths in plans.items():
        for path in paths:
            _, _, body, _ = fb.http_get(base + path, headers={"Cookie": cookie}, follow=False)
            data = json.loads(body)
            if isinstance(data, dict) and "results" in data:
                data = data["results"]
            counts.setdefault(name, []).append(len(data) if isinstance(data, list) else 1)
    if not counts["sub-topic (100 resources)"][0] or not any(counts["search one word"]):
        raise RuntimeError(f"Kolibri shows nothing: {counts}")
    fb.log(f"kolibri answers (nodes per request): {counts}")
    return counts


def unique(path: str, n: int) -> str:
    """The same request under a URL no one asked before (a response cache cannot answer it)."""
    return f"{path}{'&' if '?' in path else '?'}_={n}"


def measure(base: str, plans: dict[str, list[str]], cookies: list[str], rounds: int, duration: int, who: str, fresh: bool = False) -> dict[str, list[dict]]:
    for path_list in plans.values():
        for path in path_list:
            status, *_ = fb.http_get(base + path, headers={"Cookie": cookies[0]}, follow=False)
            if status != 200:
                raise RuntimeError(f"{who} {path}: HTTP {status}")
    results: dict[str, list[dict]] = {}
    for round_number in range(rounds):
        for name, paths in plans.items():
            if fresh:  # more rows than wrk sends in `duration`, none twice
                rows = [(unique(paths[i % len(paths)], i), cookies[i % len(cookies)]) for i in range(40_000)]
            else:
                rows = [(paths[i % len(paths)], cookies[i % len(cookies)]) for i in range(120)]
            res = fb.run_wrk(base, paths[0], 10, duration, rows=rows, stride=fresh)
            if res["non200"] or res["err_connect"] or res["err_timeout"]:
                raise RuntimeError(f"{who} {name}: errors {res}")
            results.setdefault(name, []).append(res)
            fb.log(f"{who} round {round_number + 1} {name}: {res['rps']:.0f} req/s p95 {res['p95_ms']:.1f} ms")
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=18311)
    parser.add_argument("--kolibri", action="store_true", help=f"also Kolibri {fb.KOLIBRI_VERSION} (bench/.venv-kolibri)")
    args = parser.parse_args()
    if subprocess.run(["which", "wrk"], capture_output=True).returncode:
        raise SystemExit("wrk is missing: apt-get install wrk")
    if WORK.exists():
        subprocess.run(["rm", "-rf", str(WORK)], check=True)
    WORK.mkdir(parents=True)
    fb.WORK.mkdir(parents=True, exist_ok=True)
    home, package = WORK / "home", WORK / "package"
    kolibri_src = WORK / "kolibri-src" if args.kolibri else None
    fb.log("generating the package")
    t0 = time.perf_counter()
    channel = generate_package(package, args.resources, kolibri_src=kolibri_src)
    fb.log(f"generated in {time.perf_counter() - t0:.1f} s; kalan demo")
    kalan(["demo"], home)
    t0 = time.perf_counter()
    kalan(["content", "import", str(package), "--channel", str(channel)], home)
    import_s = time.perf_counter() - t0
    fb.log(f"imported {args.resources} resources in {import_s:.1f} s")
    ids = node_ids(home)
    env = {k: v for k, v in os.environ.items() if k not in {"KALAN_DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["KALAN_HOME"] = str(home)
    server = fb.Server("kalan", [str(KALAN), "start", "--port", str(args.port)], env, args.port, WORK / "server.log", root="/signin/")
    server.start()
    try:
        server.wait_ready()
        learner = fb.Kalan()
        cookies = []
        for n in range(1, 41):
            jar = learner.login(server.base, f"learner{n:02d}", fb.LEARNER_PASSWORD)
            cookies.append("; ".join(f"{c.name}={c.value}" for c in jar))
        results = measure(server.base, scenarios(ids), cookies, args.rounds, args.duration, "kalan")
    finally:
        server.stop()
    kolibri_results, kolibri_fresh, kolibri_info = {}, {}, {}
    if kolibri_src is not None:
        fb.log("kolibri: provisioning, building and importing the same resources")
        kolibri, kolibri_info = prepare_kolibri(kolibri_src, channel)
        fb.log(f"kolibri: imported in {kolibri_info['import_s']} s")
        port = args.port + 1
        kserver = kolibri.server(port)
        kserver.start()
        try:
            kserver.wait_ready()
            kcookies = []
            for username, password in kolibri.learners:
                jar, _ = kolibri.login(kserver.base, username, password)
                kcookies.append("; ".join(f"{c.name}={c.value}" for c in jar))
            plans = kolibri_scenarios(kolibri_info["channel_id"])
            kolibri_info["answers"] = check_kolibri_answers(kserver.base, plans, kcookies[0])
            kolibri_results = measure(kserver.base, plans, kcookies, args.rounds, args.duration, "kolibri")
            kolibri_fresh = measure(kserver.base, plans, kcookies, args.rounds, args.duration, "kolibri (new URLs)", fresh=True)
        finally:
            kserver.stop()
    write_report(args, results, import_s, kolibri_results, kolibri_fresh, kolibri_info)
    return 0


def write_report(args, results, import_s, kolibri_results, kolibri_fresh, kolibri_info) -> None:
    date = dt.date.today().isoformat()
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    command = f"python3.11 bench/content_search.py --resources {args.resources} --duration {args.duration} --rounds {args.rounds}"
    if args.kolibri:
        command += " --kolibri"
    lines = [
        f"# Library browse and search at c=10 over {args.resources:,} resources ({date})",
        "",
        f"Command: `{command}`",
        f"Kalan commit {commit}; SQLite; `kalan start` defaults (gunicorn, 2 workers x 2 threads);",
        f"wrk -t2 -c10, 40 signed-in learners rotated, {args.duration} s per scenario per round.",
        f"Import of the generated channel (`kalan content import`): {import_s:.1f} s.",
        "",
        "| scenario | req/s (median) | p50 ms (median) | p95 ms (median) | p95 ms per round | target p95 <= 100 ms |",
        "|---|---|---|---|---|---|",
    ]

    def row(runs):
        return (
            statistics.median(r["rps"] for r in runs),
            statistics.median(r["p50_ms"] for r in runs),
            statistics.median(r["p95_ms"] for r in runs),
            ", ".join(f"{r['p95_ms']:.0f}" for r in runs),
        )

    for name, runs in results.items():
        rps, p50, p95, per_round = row(runs)
        lines.append(f"| {name} | {rps:.0f} | {p50:.1f} | {p95:.1f} | {per_round} | {'met' if p95 <= 100 else 'NOT met'} |")
    if kolibri_results:
        lines += [
            "",
            f"## Side by side with Kolibri {fb.KOLIBRI_VERSION}, same machine, same run",
            "",
            "The same resources (titles and descriptions; not the text inside documents, which a "
            "Kolibri channel does not index) built into a Kolibri channel by bench/kolibri_channel.py "
            f"and imported with `importchannel disk` + `importcontent disk` ({kolibri_info['import_s']} s), "
            "40 learners signed in; `kolibri start --foreground`. Kolibri's learner pages are one "
            "HTML shell whose content comes from its API, so its rows are the API calls that show "
            "the same thing: a topic's children `GET /api/content/contentnode/?parent=<id>` (all 100), "
            "a resource `GET /api/content/contentnode/<id>/`, a search "
            "`GET /api/content/contentnode/?keywords=<words>&max_results=20` (what its search page "
            "asks; `icontains` over titles and descriptions: no folding, so `eleve` does not find "
            "`élève`). Kalan's rows are whole HTML pages. Nodes per Kolibri answer: "
            + "; ".join(f"{k}: {v}" for k, v in kolibri_info["answers"].items()) + ".",
            "",
            "Kolibri keeps each content API response in its cache, keyed by the URL, until a channel "
            "changes: the rows run twice, once rotating the same URLs as Kalan (answered from that "
            "cache after the first time) and once with a never-seen `_=<n>` added to every URL (so "
            "each answer is computed, as Kalan computes every page: it keeps no response cache).",
            "",
            "| scenario | Kalan req/s | Kalan p95 ms | Kolibri, same URLs: req/s | p95 ms | Kolibri, new URLs: req/s | p95 ms | Kalan / Kolibri req/s (same URLs, new URLs) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, runs in kolibri_results.items():
            krps, _, kp95, _ = row(runs)
            frps, _, fp95, _ = row(kolibri_fresh[name])
            rps, _, p95, _ = row(results[name])
            lines.append(
                f"| {name} | {rps:.0f} | {p95:.1f} | {krps:.0f} | {kp95:.1f} | {frps:.0f} | {fp95:.1f} | "
                f"{rps / krps:.1f}x, {rps / frps:.1f}x |"
            )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"content-search-{date}.md"
    out.write_text("\n".join(lines) + "\n")
    data = {"kalan": results, "kolibri": kolibri_results, "kolibri_new_urls": kolibri_fresh, "kolibri_info": kolibri_info}
    (RESULTS / f"content-search-{date}.json").write_text(json.dumps(data, indent=1))
    fb.log(f"wrote {out}")


if __name__ == "__main__":
    random.seed(1)
    sys.exit(main())
