"""Test-wide set-up: an instance folder and databases that are never anyone's own."""

import os
import tempfile
from collections.abc import Iterator

import pytest

if not os.environ.get("KALAN_HOME"):  # make sets it; never create a folder for nothing
    os.environ["KALAN_HOME"] = tempfile.mkdtemp(prefix="kalan-test-home-")


@pytest.fixture
def fresh_database_url() -> Iterator[str | None]:
    """A database of its own for a `kalan` process (see tests/support.py)."""
    from tests.support import own_database

    with own_database() as url:
        yield url


@pytest.fixture
def isolated_cli_database(fresh_database_url, monkeypatch):
    """Each `kalan` run of a test gets a fresh database, never the suite's."""
    monkeypatch.delenv("KALAN_DATABASE_URL", raising=False)
    if fresh_database_url:
        monkeypatch.setenv("KALAN_DATABASE_URL", fresh_database_url)


@pytest.fixture(autouse=True)
def _interface_language_reset() -> Iterator[None]:
    """A test that signs someone in with French or Russian must not leave it on for the next."""
    yield
    from django.utils import translation

    translation.deactivate()
