"""Group commit: concurrent jobs share writes, and each gets its own outcome."""

import threading
import time
from collections.abc import Sequence

import pytest

from kalan.lrs.group_commit import GroupCommit


class Refused(Exception):
    pass


def test_concurrent_jobs_are_written_in_shared_batches_each_with_its_outcome() -> None:
    written: list[list[int]] = []

    def write(jobs: Sequence[int]) -> list[int | Exception]:
        time.sleep(0.01)  # a transaction takes time: others queue meanwhile
        written.append(list(jobs))
        return [Refused(job) if job % 7 == 0 else job * 10 for job in jobs]

    commit: GroupCommit[int, int] = GroupCommit(write)
    outcomes: dict[int, int | BaseException] = {}
    start = threading.Barrier(40)

    def submit(job: int) -> None:
        start.wait()
        outcomes[job] = commit.submit(job)

    threads = [threading.Thread(target=submit, args=(job,)) for job in range(1, 41)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(job for batch in written for job in batch) == list(range(1, 41))  # each once
    assert len(written) < 40  # jobs shared writes
    assert commit.batches == len(written)
    for job in range(1, 41):
        if job % 7 == 0:
            assert isinstance(outcomes[job], Refused)
        else:
            assert outcomes[job] == job * 10


def test_a_failing_write_fails_only_its_batch() -> None:
    calls = 0

    def write(jobs: Sequence[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("disk full")
        return list(jobs)

    commit: GroupCommit[str, str] = GroupCommit(write)
    first = commit.submit("a")
    assert isinstance(first, OSError)
    assert commit.submit("b") == "b"  # the writer was released


def test_a_write_that_loses_outcomes_is_an_error_for_every_job() -> None:
    commit: GroupCommit[str, str] = GroupCommit(lambda jobs: [])
    assert isinstance(commit.submit("a"), RuntimeError)


def test_an_interrupted_writer_releases_the_others() -> None:
    def write(jobs: Sequence[str]) -> list[str]:
        raise KeyboardInterrupt

    commit: GroupCommit[str, str] = GroupCommit(write)
    with pytest.raises(KeyboardInterrupt):
        commit.submit("a")
    assert commit._writing is False


@pytest.mark.django_db
def test_requests_written_together_keep_their_own_outcomes() -> None:
    import uuid

    from kalan.lrs import statements as service
    from kalan.lrs.auth import KALAN_AUTHORITY
    from kalan.lrs.models import Statement
    from kalan.lrs.tests.xapi_client import statement

    shared = str(uuid.uuid4())

    def request(*made: dict[str, object]) -> object:
        return service._prepare(
            made, version="2.0.0", authority=KALAN_AUTHORITY, attachments=(), people={}
        )

    first = request(statement(statement_id=shared), statement())
    retry = request(statement(statement_id=shared))  # the same statement again: accepted
    clash = request(
        statement(), statement(statement_id=shared, activity="http://example.org/activities/two")
    )
    outcomes = service._write_batch([first, retry, clash])  # type: ignore[list-item]
    assert outcomes[0] == first.ids  # type: ignore[attr-defined]
    assert outcomes[1] == [shared]
    assert isinstance(outcomes[2], service.StatementConflict)
    assert Statement.objects.count() == 2  # nothing of the refused request
