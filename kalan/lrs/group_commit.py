"""Writing the statements of concurrent requests in shared transactions (group commit).

Forty tablets reporting progress at once would otherwise queue forty write
transactions on the hub's database, each paying for its own lock, queries and
commit. Here the requests of one server process meet in a queue: the first to
find no writer at work becomes the writer, takes every request waiting at that
moment and writes them with one function call (one transaction); the others
wait for their own outcome. When the writer is done, a waiting request takes
the next batch. Each request still gets its own answer: ids, or the exception
that refused it, as the write function decides per request.
"""

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Job = TypeVar("Job")
Outcome = TypeVar("Outcome")


@dataclass
class _Slot(Generic[Job, Outcome]):
    job: Job
    outcome: Outcome | BaseException | None = None
    finished: bool = False


class GroupCommit(Generic[Job, Outcome]):
    """`submit(job)` returns the job's outcome from `write`, which sees batches of jobs.

    `write(jobs)` returns one outcome (a result or an exception) per job, in order;
    if it raises, every job of the batch gets that exception.
    """

    def __init__(self, write: Callable[[Sequence[Job]], Sequence[Outcome | BaseException]]) -> None:
        self._write = write
        self._condition = threading.Condition()
        self._queue: list[_Slot[Job, Outcome]] = []
        self._writing = False
        self.batches = 0  # how many batches were written (for tests and benchmarks)

    def submit(self, job: Job) -> Outcome | BaseException:
        slot: _Slot[Job, Outcome] = _Slot(job)
        with self._condition:
            self._queue.append(slot)
            while not slot.finished:
                if self._writing:
                    self._condition.wait()
                else:
                    self._write_waiting()
        outcome = slot.outcome
        assert outcome is not None  # every finished slot has its outcome
        return outcome

    def _write_waiting(self) -> None:
        """Write every queued job (called holding the condition; released while writing)."""
        self._writing = True
        batch, self._queue = self._queue, []
        outcomes: Sequence[Outcome | BaseException]
        interrupted: BaseException | None = None
        self._condition.release()
        try:
            outcomes = self._outcomes([slot.job for slot in batch])
        except BaseException as error:  # the process is stopping: nobody may wait forever
            outcomes, interrupted = [error] * len(batch), error
        finally:
            self._condition.acquire()
        for slot, outcome in zip(batch, outcomes, strict=True):
            slot.outcome = outcome
            slot.finished = True
        self.batches += 1
        self._writing = False
        self._condition.notify_all()
        if interrupted is not None:
            raise interrupted

    def _outcomes(self, jobs: list[Job]) -> Sequence[Outcome | BaseException]:
        try:
            outcomes = self._write(jobs)
        except Exception as error:  # every job of the batch learns why
            return [error] * len(jobs)
        if len(outcomes) != len(jobs):
            wrong = RuntimeError("the write function gave a wrong number of outcomes")
            return [wrong] * len(jobs)
        return outcomes
