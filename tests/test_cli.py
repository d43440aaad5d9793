"""The `kalan` command as a person meets it: one clear line, never a traceback."""

import os

import pytest

from tests.support import one_error_line, run_kalan

pytestmark = pytest.mark.usefixtures("isolated_cli_database")
run = run_kalan
one_clear_line = one_error_line


def test_unknown_command(tmp_path):
    line = one_clear_line(run(["fly"], tmp_path))
    assert "invalid choice" in line


def test_bad_port(tmp_path):
    assert "--port" in one_clear_line(run(["start", "--port", "notaport"], tmp_path))
    assert "--port" in one_clear_line(run(["start", "--port", "70000"], tmp_path))


def test_bad_server_settings(tmp_path):
    assert "--workers" in one_clear_line(run(["start", "--workers", "0"], tmp_path))
    assert "KALAN_THREADS" in one_clear_line(run(["start"], tmp_path, KALAN_THREADS="many"))


def test_unusable_home(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    line = one_clear_line(run(["demo"], blocker / "home"))
    assert "KALAN_HOME" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_home(tmp_path):
    home = tmp_path / "ro"
    home.mkdir()
    home.chmod(0o500)
    assert "KALAN_HOME" in one_clear_line(run(["demo"], home))


def test_setup_with_missing_password_file(tmp_path):
    line = one_clear_line(
        run(
            [
                "setup",
                "--school",
                "Ecole de Gao",
                "--admin",
                "head",
                "--password-file",
                str(tmp_path / "missing"),
                "--noinput",
            ],
            tmp_path / "home",
        )
    )
    assert "password file" in line
    assert not (tmp_path / "home" / "kalan.sqlite3").exists()


def test_setup_then_sign_in_works_and_setup_is_repeatable(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("a-long-school-secret\n")
    home = tmp_path / "home"
    args = [
        "setup",
        "--school",
        "École de Gao",
        "--admin",
        "Head",
        "--password-file",
        str(secret),
        "--noinput",
    ]
    first = run(args, home)
    assert first.returncode == 0, first.stderr
    assert "ECOLE-DE-GAO" in first.stdout
    second = run(args, home)
    assert second.returncode == 0, second.stderr
    check = run(
        [
            "manage",
            "shell",
            "-v",
            "0",
            "-c",
            "from kalan.accounts.models import User;"
            "u = User.objects.get(username='head');"
            "print(u.check_password('a-long-school-secret'), User.objects.count())",
        ],
        home,
    )
    assert check.stdout.split() == ["True", "1"], check.stderr


def test_bad_database_url_is_one_line(tmp_path):
    line = one_clear_line(
        run(["demo"], tmp_path, KALAN_DATABASE_URL="postgres://nobody@127.0.0.1:1/x")
    )
    assert "error" in line.lower()


def test_manage_passes_through(tmp_path):
    result = run(["manage", "check"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_lrs_credentials_create_prints_key_and_secret_on_one_line(tmp_path):
    result = run(["lrs", "credentials", "create", "District dashboard"], tmp_path)
    assert result.returncode == 0, result.stderr
    key, secret = result.stdout.strip().split(" ")
    assert len(key) == 20
    assert len(secret) >= 30
    again = run(["lrs", "credentials", "create", "Other tool"], tmp_path)
    assert again.stdout.split()[0] != key


def test_lrs_credentials_need_a_name(tmp_path):
    assert "name" in one_clear_line(run(["lrs", "credentials", "create", " "], tmp_path))
