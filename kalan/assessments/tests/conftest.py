"""Each test gets a content store of its own: xdist workers share KALAN_HOME."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def content_dir(tmp_path: Path, settings: pytest.FixtureRequest) -> Path:
    folder = tmp_path / "content-store"
    settings.KALAN_CONTENT_DIR = folder  # type: ignore[attr-defined]
    return folder
