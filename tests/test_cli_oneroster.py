"""`kalan users import-oneroster` as an operator meets it: one summary line, or one error line."""

import os
import shutil
from pathlib import Path

import pytest

from tests.support import one_error_line, run_kalan

CORPUS = Path(
    os.environ.get("KALAN_CORPUS") or Path(__file__).parents[1] / "../shared/corpus"
).resolve()
FULL = CORPUS / "oneroster" / "catalyst-Test_full_data_set"

pytestmark = [
    pytest.mark.skipif(
        not (FULL / "manifest.csv").is_file(),
        reason=f"the OneRoster corpus is not at {CORPUS} (set KALAN_CORPUS)",
    ),
    pytest.mark.usefixtures("isolated_cli_database"),
]


run = run_kalan


def counts(home):
    result = run(
        [
            "manage",
            "shell",
            "-v",
            "0",
            "-c",
            "from kalan.accounts.models import User;"
            "from kalan.schools.models import Classroom, Enrolment, GuardianLink;"
            "print(User.objects.count(), Classroom.objects.count(),"
            " Enrolment.objects.count(), GuardianLink.objects.count())",
        ],
        home,
    )
    assert result.returncode == 0, result.stderr
    return [int(n) for n in result.stdout.split()]


def test_import_reimport_and_refusals(tmp_path):
    """One instance for every step: preparing a fresh one is the slow part."""
    home = tmp_path / "home"
    line = one_error_line(run(["users", "import-oneroster", str(tmp_path / "nowhere")], home))
    assert line == f"kalan: error: {tmp_path / 'nowhere'} is not a folder"
    assert not (home / "kalan.sqlite3").exists()
    assert "invalid choice" in one_error_line(run(["users", "fly"], home))

    secret = tmp_path / "pw"
    secret.write_text("a-long-school-secret\n")
    setup = ["setup", "--school", "Gao", "--school-code", "GAO-1", "--admin", "head"]
    assert run([*setup, "--password-file", str(secret), "--noinput"], home).returncode == 0

    first = run(["users", "import-oneroster", str(FULL), "--school", "GAO-1"], home)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "Imported: people: 6 new, 0 changed, 0 unchanged; classes: 1 new, 0 changed, "
        "0 unchanged; enrolments: 3 new, 0 unchanged; guardian links: 1 new; schools: 0 new; "
        "rows skipped (to be deleted): 4"
    ]
    assert counts(home) == [1 + 6, 1, 3, 1]

    again = run(["users", "import-oneroster", str(FULL), "--school", "GAO-1"], home)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("Nothing changed: people: 0 new, 0 changed, 6 unchanged")

    bad = tmp_path / "bad"
    shutil.copytree(FULL, bad)
    users = (bad / "users.csv").read_text().splitlines()
    users[3] = users[3].replace(",parent,", ",wizard,")
    users[6] = users[6].replace("2023-06-15", "15/06/2023")
    users.append("usr-222-123456,,,TRUE,org-sch-222-456,student,new.one,,New,One,,,,,,,,")
    (bad / "users.csv").chmod(0o644)
    (bad / "users.csv").write_text("\r\n".join(users) + "\r\n")
    line = one_error_line(run(["users", "import-oneroster", str(bad), "--school", "GAO-1"], home))
    assert line == (
        "kalan: error: the bundle has 3 problems: "
        'users.csv line 4: unknown role "wizard"; '
        'users.csv line 7: dateLastModified "15/06/2023" is not an ISO 8601 date and time; '
        'users.csv line 8: duplicate sourcedId "usr-222-123456" (first on line 2)'
    )
    assert counts(home) == [1 + 6, 1, 3, 1]

    line = one_error_line(run(["users", "import-oneroster", str(FULL), "--school", "NOPE"], home))
    assert line == 'kalan: error: no school has the id or code "NOPE"'
    line = one_error_line(run(["users", "import-oneroster", str(FULL)], home))
    assert line.startswith(
        'kalan: error: the bundle has 7 problems: users.csv line 2: no school for "org-sch-222-456"'
    )
    assert counts(home) == [1 + 6, 1, 3, 1]
