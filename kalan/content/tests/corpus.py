"""The shared test corpus (third-party sample files; see its README) and zips built for tests.

The corpus is at $KALAN_CORPUS, else ../shared/corpus beside the repository.
Tests that need it skip, saying where they looked, when it is absent.
"""

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = Path(__file__).resolve().parents[3]


def corpus_root() -> Path:
    return Path(os.environ.get("KALAN_CORPUS") or REPOSITORY.parent / "shared" / "corpus")


def corpus_path(name: str) -> Path:
    """The corpus folder `name`; skips the calling test when it is absent."""
    path = corpus_root() / name
    if not path.is_dir():
        pytest.skip(f"the {name} corpus is not at {path} (set KALAN_CORPUS)")
    return path


def corpus_files(name: str, pattern: str) -> list[Any]:
    """pytest parameters, one per file of the corpus folder matching `pattern`.

    When there is none (no corpus), a single skipped parameter says why, so that
    collection never fails and the skip is visible.
    """
    folder = corpus_root() / name
    files = sorted(folder.glob(pattern)) if folder.is_dir() else []
    if not files:
        reason = f"no {pattern} in {folder} (set KALAN_CORPUS)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-corpus")]
    return [pytest.param(path, id=path.relative_to(folder).as_posix()) for path in files]


def write_zip(path: Path, members: Mapping[str, bytes | str]) -> Path:
    """A zip at `path` holding `members` (name -> content), deflated."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path
