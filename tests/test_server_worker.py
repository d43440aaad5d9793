"""The server's worker lets an idle sibling take a new connection when it is busy."""

from types import SimpleNamespace

import pytest
from gunicorn.workers.gthread import ThreadWorker

from kalan import server


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """A BalancedThreadWorker without a process around it: what it slept, what it accepted."""
    seen = SimpleNamespace(sleeps=[], accepted=[])
    # Only the server module's clock: other threads of the test process keep sleeping.
    monkeypatch.setattr(server, "time", SimpleNamespace(sleep=seen.sleeps.append))
    monkeypatch.setattr(ThreadWorker, "accept", lambda self, listener: seen.accepted.append(1))
    seen.worker = object.__new__(server.BalancedThreadWorker)
    seen.worker.cfg = SimpleNamespace(threads=2)
    return seen


@pytest.mark.parametrize(("connections", "waits"), [(0, False), (1, False), (2, True), (7, True)])
def test_a_busy_worker_waits_before_accepting(worker, connections, waits):
    worker.worker.nr_conns = connections
    worker.worker.accept(listener=None)
    assert worker.accepted == [1]  # it accepts in the end (or finds the connection taken)
    assert worker.sleeps == ([server.ACCEPT_YIELD_SECONDS] if waits else [])


def test_kalan_start_uses_it_when_workers_have_threads(monkeypatch):
    options: dict[str, object] = {}

    class Recorder:
        def __init__(self, given: dict[str, object]) -> None:
            options.update(given)

        def run(self) -> None:
            pass

    monkeypatch.setattr(server, "KalanServer", Recorder)
    server.serve(host="127.0.0.1", port=8000, workers=2, threads=2)
    assert options["worker_class"] == "kalan.server.BalancedThreadWorker"
    server.serve(host="127.0.0.1", port=8000, workers=2, threads=1)
    assert options["worker_class"] == "sync"
