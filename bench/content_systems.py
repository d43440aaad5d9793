"""The systems the content import benchmark runs: cp -r, Kolibri 0.19.5 and Kalan."""

from __future__ import annotations

import abc
import hashlib
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from content_harness import (
    BENCH,
    KOLIBRI_ENV,
    KOLIBRI_VENV,
    KOLIBRI_VERSION,
    MIB,
    PY,
    SETTINGS,
    base_env,
    file_digest,
    log,
    measure,
    netns_wrap,
    rmtree,
    tree_bytes,
)
from content_source import SourceSpec
from foundation import KOLIBRI_PROVISION


# =========================================================================== systems
class System(abc.ABC):
    key = ""
    title = ""
    payload_bytes = 0

    def prepare(self) -> dict:  # once per benchmark run
        return {}

    def software_paths(self) -> list[Path]:  # read back after drop_caches in "cold" runs
        return []

    @abc.abstractmethod
    def fresh(self, run_dir: Path) -> None:  # a fresh destination for one run (untimed)
        raise NotImplementedError

    @abc.abstractmethod
    def import_steps(self) -> list[tuple[str, list[str]]]:
        raise NotImplementedError

    def env(self) -> dict:
        return base_env()

    @abc.abstractmethod
    def dest_bytes(self) -> int:  # content bytes landed so far (for the interruption test)
        raise NotImplementedError

    @abc.abstractmethod
    def verify(self, hashes: bool) -> dict:
        raise NotImplementedError

    def pre_kill_steps(self) -> int:
        """How many of import_steps run to completion before the one that gets interrupted."""
        return 0


class CpR(System):
    key = "cp"
    title = "cp -r (baseline)"

    def __init__(self, src: Path, meta: dict):
        self.src, self.meta = src, meta
        self.payload_bytes = meta["bytes"]

    def fresh(self, run_dir: Path) -> None:
        self.dest = run_dir / "cp-dest"
        rmtree(self.dest)

    def import_steps(self):
        return [("cp -r", ["cp", "-r", str(self.src), str(self.dest)])]

    def dest_bytes(self) -> int:
        return tree_bytes(self.dest)

    def verify(self, hashes: bool) -> dict:
        bad = 0
        for e in self.meta["files"]:
            p = self.dest / e["path"]
            if (
                not p.is_file()
                or p.stat().st_size != e["size"]
                or (hashes and file_digest(p, "md5") != e["md5"])
            ):
                bad += 1
        return {"complete": bad == 0, "bad_files": bad, "hashes_checked": hashes}


class Kolibri(System):
    key = "kolibri"
    title = f"Kolibri {KOLIBRI_VERSION}"

    def __init__(self, src: Path, meta: dict, cache: Path, spec: SourceSpec):
        self.src, self.meta, self.cache, self.spec = src, meta, cache, spec
        self.venv = KOLIBRI_VENV
        self.drive = cache / f"kolibri-drive-{spec.key}"
        self.template = cache / "kolibri-home-template"
        self.cid = hashlib.md5(f"kalan-bench-channel:{spec.key}".encode()).hexdigest()
        self.payload_bytes = meta["bytes"]

    def env(self, home: Path | None = None) -> dict:
        e = base_env()
        e.update(KOLIBRI_ENV)
        e["KOLIBRI_HOME"] = str(home or self.home)
        e["PATH"] = f"{self.venv / 'bin'}:{e.get('PATH', '')}"
        return e

    def ensure_venv(self) -> None:
        if (self.venv / "bin" / "kolibri").exists():
            return
        log(f"creating {self.venv} (kolibri=={KOLIBRI_VERSION})")
        subprocess.run([PY, "-m", "venv", str(self.venv)], check=True)
        subprocess.run(
            [str(self.venv / "bin" / "pip"), "install", "-q", f"kolibri=={KOLIBRI_VERSION}"],
            check=True,
        )

    def build_drive(self) -> dict:
        stamp = self.drive / "channel.json"
        if stamp.exists():
            info = json.loads(stamp.read_text())
            log(f"kolibri: reusing drive {self.drive} (channel {info['channel_id']})")
            return info
        rmtree(self.drive)
        log(f"kolibri: building the channel database and storage in {self.drive}")
        r = subprocess.run(
            netns_wrap(
                [
                    str(self.venv / "bin" / "python"),
                    str(BENCH / "kolibri_channel.py"),
                    str(self.src),
                    str(self.drive),
                    "--channel-id",
                    self.cid,
                    "--name",
                    f"Kalan bench channel {self.spec.key}",
                ]
            ),
            env=self.env(self.cache / "kolibri-unused-home"),
            capture_output=True,
            text=True,
        )
        line = [x for x in r.stdout.splitlines() if x.startswith("CHANNEL ")]
        if r.returncode != 0 or not line:
            raise RuntimeError(
                f"kolibri_channel.py failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
            )
        info = json.loads(line[-1][len("CHANNEL ") :])
        if info["resources"] != self.meta["files_count"] or info["bytes"] != self.meta["bytes"]:
            raise RuntimeError(f"channel does not match the source: {info}")
        stamp.write_text(json.dumps(info))
        return info

    def prepare(self) -> dict:
        self.ensure_venv()
        info = self.build_drive()
        rmtree(self.template)
        self.template.mkdir(parents=True)
        log("kolibri: provisioning the template home (migrations, facility)")
        t0 = time.perf_counter()
        r = subprocess.run(
            netns_wrap(
                [str(self.venv / "bin" / "kolibri"), *KOLIBRI_PROVISION]
            ),
            env=self.env(self.template),
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            raise RuntimeError(f"provisiondevice failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
        return {
            "channel": info,
            "drive": str(self.drive),
            "provision_s": round(time.perf_counter() - t0, 1),
            "version": subprocess.run(
                [str(self.venv / "bin" / "kolibri"), "--version"],
                capture_output=True,
                text=True,
                env=self.env(self.template),
            ).stdout.strip(),
        }

    def software_paths(self) -> list[Path]:
        return [self.venv, self.home]

    def fresh(self, run_dir: Path) -> None:
        self.home = run_dir / "kolibri-home"
        rmtree(self.home)
        shutil.copytree(self.template, self.home, symlinks=True)

    def import_steps(self):
        k = str(self.venv / "bin" / "kolibri")
        return [
            ("importchannel", [k, "manage", "importchannel", "disk", self.cid, str(self.drive)]),
            ("importcontent", [k, "manage", "importcontent", "disk", self.cid, str(self.drive)]),
        ]

    def pre_kill_steps(self) -> int:
        return 1  # importchannel runs whole; importcontent (the bytes) is interrupted

    def dest_bytes(self) -> int:
        return tree_bytes(self.home / "content" / "storage")

    def verify(self, hashes: bool) -> dict:
        db = self.home / "db.sqlite3"
        res: dict = {}
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
            q = lambda sql, *a: c.execute(sql, a).fetchone()[0]
            res["channel_rows"] = q(
                "select count(*) from content_channelmetadata where id=?", self.cid
            )
            res["resources_available"] = q(
                "select count(*) from content_contentnode where channel_id=? and kind!='topic' "
                "and available=1",
                self.cid,
            )
            res["localfiles_available"] = q(
                "select count(*) from content_localfile where available=1"
            )
        bad, present = 0, 0
        by_md5 = {e["md5"]: e for e in self.meta["files"]}
        for md5, e in by_md5.items():
            ext = Path(e["path"]).suffix.lstrip(".")
            p = self.home / "content" / "storage" / md5[0] / md5[1] / f"{md5}.{ext}"
            if p.is_file() and p.stat().st_size == e["size"]:
                present += 1
                if hashes and file_digest(p, "md5") != md5:
                    bad += 1
            else:
                bad += 1
        leftovers = [
            os.path.join(d, n)
            for d, _, fs in os.walk(self.home / "content" / "storage")
            for n in fs
            if n.endswith(".transfer")
        ]
        n = self.meta["files_count"]
        res.update(
            files_present=present,
            bad_files=bad,
            leftover_partial_files=len(leftovers),
            hashes_checked=hashes,
        )
        res["complete"] = (
            res["channel_rows"] == 1
            and res["resources_available"] == n
            and res["localfiles_available"] == len(by_md5)
            and bad == 0
        )
        return res


class Kalan(System):
    """Kalan's side. HOOK: runs once `kalan content build` and `kalan content import` exist.

    kalan_cmd is the command (a path, or several words: `--kalan ".venv/bin/kalan"`; the
    special value `standin` runs the stand-in in this file, which only tests the harness).
    - The package: --kalan-pkg DIR if given, else `KALAN content build SRC --out PKG`
      (+ --kalan-build-args) into bench/.cache/content/kalan-pkg-<key>, once, timed, with
      KALAN_HOME = bench/.cache/content/kalan-build-home (set up like the template below).
      SRC is the synthetic folder tree (topics = folders); it has no channel metadata file:
      if the builder needs one, pass it with --kalan-build-args.
    - Every run imports into a fresh KALAN_HOME: a copy of a template home prepared once with
      `KALAN setup ...` (--kalan-setup; '' for none). KALAN_DATABASE_URL is removed from the
      environment, so the home's SQLite is used.
    - Imported = `KALAN content import PKG` (+ --kalan-import-args); end state = every file
      of PKG/files/ present in KALAN_HOME/content/files/ with its SHA-256, nothing in
      content/tmp/, the manifest in content/channels/, the channel id in `kalan content list`.
    """

    key = "kalan"
    title = "Kalan"

    def __init__(self, kalan_cmd: list[str], src: Path, meta: dict, cache: Path, spec, args):
        self.cmd, self.src, self.meta, self.cache, self.spec = kalan_cmd, src, meta, cache, spec
        self.pkg = Path(args.kalan_pkg).resolve() if args.kalan_pkg else None
        self.build_args = shlex.split(args.kalan_build_args or "")
        self.import_args = shlex.split(args.kalan_import_args or "")
        self.setup_args = args.kalan_setup
        self.template = cache / "kalan-home-template"
        self.standin = kalan_cmd[-1] == "standin-kalan"

    def env(self, home: Path | None = None) -> dict:
        e = base_env()
        e["KALAN_HOME"] = str(home or self.home)
        e["PYTHONUNBUFFERED"] = "1"
        exe = Path(self.cmd[0])
        if exe.parent.name == "bin":
            e["PATH"] = f"{exe.parent}:{e.get('PATH', '')}"
        return e

    def _run(self, args: list[str], home: Path, what: str) -> subprocess.CompletedProcess:
        r = subprocess.run(
            netns_wrap([*self.cmd, *args]), env=self.env(home), capture_output=True, text=True
        )
        if r.returncode != 0:
            raise RuntimeError(
                f"{what} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
            )
        return r

    def _setup_home(self, home: Path) -> float:
        """A fresh home, prepared with --kalan-setup. Returns the seconds it took."""
        rmtree(home)
        home.mkdir(parents=True)
        if not self.setup_args:
            return 0.0
        pw = self.cache / "kalan-admin-password"
        pw.write_text("bench-admin-password-1\n")
        args = shlex.split(self.setup_args.replace("{password_file}", str(pw)))
        t0 = time.perf_counter()
        self._run(args, home, "kalan setup")
        return round(time.perf_counter() - t0, 1)

    def _build(self) -> dict:
        """`kalan content build SRC --out PKG`, in a home of its own (set up like the others),
        so that nothing the build leaves in its home can reach the homes that import."""
        self.pkg = self.cache / f"kalan-pkg-{self.spec.key}"
        rmtree(self.pkg)
        home = self.cache / "kalan-build-home"
        self._setup_home(home)
        log(f"kalan: building the package into {self.pkg}")
        cmd = [*self.cmd, "content", "build", str(self.src), "--out", str(self.pkg)]
        m = measure([*cmd, *self.build_args], self.env(home), SETTINGS.logs / "kalan-build.log")
        if m.rc != 0:
            raise RuntimeError(f"kalan content build failed:\n{m.log}")
        return m.brief()

    def prepare(self) -> dict:
        info: dict = {"command": " ".join(self.cmd), "standin": self.standin}
        if self.pkg is None:
            info["build"] = self._build()
        files = [p for p in (self.pkg / "files").rglob("*") if p.is_file()]
        self.pkg_files = {p.name: p.stat().st_size for p in files}
        self.payload_bytes = sum(self.pkg_files.values())
        manifests = sorted((self.pkg / "channels").glob("*.json"))
        if not manifests:
            raise RuntimeError(f"no channels/*.json in {self.pkg}")
        self.channel_ids = [p.stem for p in manifests]
        info.update(
            pkg=str(self.pkg),
            pkg_files=len(files),
            pkg_bytes=self.payload_bytes,
            channels=self.channel_ids,
            setup_s=self._setup_home(self.template),
        )
        return info

    def software_paths(self) -> list[Path]:
        exe = Path(self.cmd[0]).resolve()
        venv = exe.parent.parent if exe.parent.name == "bin" else None
        paths = [self.home]
        if venv and (venv / "pyvenv.cfg").exists():
            paths.append(venv)
        return paths

    def fresh(self, run_dir: Path) -> None:
        self.home = run_dir / "kalan-home"
        rmtree(self.home)
        shutil.copytree(self.template, self.home, symlinks=True)

    def import_steps(self):
        cmd = [*self.cmd, "content", "import", str(self.pkg), *self.import_args]
        return [("kalan content import", cmd)]

    def dest_bytes(self) -> int:
        return tree_bytes(self.home / "content")

    def verify(self, hashes: bool) -> dict:
        store = self.home / "content" / "files"
        bad = present = 0
        for sha, size in self.pkg_files.items():
            p = store / sha[:2] / sha
            if p.is_file() and p.stat().st_size == size:
                present += 1
                if hashes and file_digest(p, "sha256") != sha:
                    bad += 1
            else:
                bad += 1
        tmp = self.home / "content" / "tmp"
        leftovers = sum(1 for p in tmp.rglob("*") if p.is_file()) if tmp.exists() else 0
        manifests = [
            cid
            for cid in self.channel_ids
            if (self.home / "content" / "channels" / f"{cid}.json").exists()
        ]
        res = {
            "files_present": present,
            "bad_files": bad,
            "leftover_partial_files": leftovers,
            "channels_present": len(manifests),
            "hashes_checked": hashes,
        }
        r = subprocess.run(
            netns_wrap([*self.cmd, "content", "list"]),
            env=self.env(),
            capture_output=True,
            text=True,
        )
        res["content_list_rc"] = r.returncode
        res["content_list_shows_channel"] = all(cid in r.stdout for cid in self.channel_ids)
        res["complete"] = (
            bad == 0
            and leftovers == 0
            and len(manifests) == len(self.channel_ids)
            and res["content_list_shows_channel"]
        )
        return res


# =========================================================================== the stand-in
def standin_kalan(argv: list[str]) -> int:
    """A stand-in for `kalan` used only to test this harness (not Kalan, not measured as
    Kalan): `setup ...` (no-op), `content build SRC --out PKG` (spec layout, unsigned),
    `content import PKG` (copy to content/tmp, SHA-256 check, rename; skips files present),
    `content list`."""
    home = Path(os.environ["KALAN_HOME"])
    if argv[:1] == ["setup"]:
        home.mkdir(parents=True, exist_ok=True)
        return 0
    if argv[:2] == ["content", "build"]:
        src, out = Path(argv[2]), Path(argv[argv.index("--out") + 1])
        children = []
        for p in sorted(src.rglob("*")):
            if p.is_file():
                sha = file_digest(p, "sha256")
                dest = out / "files" / sha[:2] / sha
                dest.parent.mkdir(parents=True, exist_ok=True)
                if not dest.exists():
                    shutil.copyfile(p, dest)
                children.append({"id": sha[:32], "title": p.stem, "files": [{"sha256": sha}]})
        cid = hashlib.md5(str(src).encode()).hexdigest()
        (out / "channels").mkdir(parents=True, exist_ok=True)
        manifest = {"format": "kalan-channel/1", "id": cid, "root": {"children": children}}
        (out / "channels" / f"{cid}.json").write_text(json.dumps(manifest))
        return 0
    if argv[:2] == ["content", "import"]:
        pkg = Path(argv[2])
        files, tmp = home / "content" / "files", home / "content" / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        for p in sorted((pkg / "files").rglob("*")):
            if not p.is_file():
                continue
            dest = files / p.name[:2] / p.name
            if dest.exists() and dest.stat().st_size == p.stat().st_size:
                continue
            part, h = tmp / p.name, hashlib.sha256()
            with open(p, "rb") as fi, open(part, "wb") as fo:
                while block := fi.read(MIB):
                    h.update(block)
                    fo.write(block)
            if h.hexdigest() != p.name:
                part.unlink()
                print(f"{p.name}: checksum mismatch", file=sys.stderr)
                return 1
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, dest)
        (home / "content" / "channels").mkdir(parents=True, exist_ok=True)
        for m in (pkg / "channels").glob("*.json"):
            shutil.copyfile(m, home / "content" / "channels" / m.name)
        return 0
    if argv[:2] == ["content", "list"]:
        for m in sorted((home / "content" / "channels").glob("*.json")):
            print(m.stem)
        return 0
    print(f"stand-in: unsupported {argv}", file=sys.stderr)
    return 2
