"""The readiness stamp: `kalan` skips migrating and collecting only when nothing changed."""

import shutil

from kalan.core import readiness


def test_a_home_moved_as_a_whole_stays_ready(tmp_path, monkeypatch):
    monkeypatch.delenv("KALAN_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("KALAN_HOME", str(home))
    assert not readiness.is_ready()  # never prepared
    (home / readiness.SQLITE_NAME).write_bytes(b"")
    readiness.mark_ready()
    assert readiness.is_ready()
    moved = tmp_path / "restored" / "home"
    shutil.copytree(home, moved)
    monkeypatch.setenv("KALAN_HOME", str(moved))
    assert readiness.is_ready()
    (moved / readiness.SQLITE_NAME).unlink()
    assert not readiness.is_ready()  # the database is gone: migrate again


def test_another_database_is_not_ready(tmp_path, monkeypatch):
    monkeypatch.setenv("KALAN_HOME", str(tmp_path))
    monkeypatch.delenv("KALAN_DATABASE_URL", raising=False)
    (tmp_path / readiness.SQLITE_NAME).write_bytes(b"")
    readiness.mark_ready()
    monkeypatch.setenv("KALAN_DATABASE_URL", "postgres://127.0.0.1:5432/other")
    assert not readiness.is_ready()
