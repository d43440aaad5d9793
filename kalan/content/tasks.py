"""Background work of the library, through Django's tasks API (ADR 0004).

`run_transfer_task` is a thin wrapper around `transfers.run_transfer` (an id in,
safe to run twice).

How a queued task runs on a school hub. The instance's backend is the database
(django-tasks-db): a queued task is a row, and something must run it. A hub runs
`kalan start` and nothing else, so this module brings its own runner: after a
task is queued, `wake_runner` starts a thread in the current process (a server
worker) that runs every ready task of the default queue with django-tasks-db's
own Worker in batch mode, then stops. Nothing polls while the hub is idle, no
process is added, and a task row claimed by one runner is never run by another
(the Worker claims rows under a database lock), so `kalan manage db_worker` may
also run beside it on a bigger server. A runner that dies with its process
leaves its transfer "In progress" without the transfer lock; the pages notice
and record it as failed (transfers.recover_transfer). With any other backend
(the immediate one in tests) the task has already run when `enqueue` returns.
"""

import logging
import threading
import uuid
from typing import Any

from django.db import connections
from django_tasks import DEFAULT_TASK_QUEUE_NAME, task, task_backends

from kalan.content.transfers import run_transfer

log = logging.getLogger(__name__)


@task()
def run_transfer_task(transfer_id: str) -> str:
    return run_transfer(uuid.UUID(transfer_id))


def enqueue_transfer(transfer_id: uuid.UUID) -> None:
    """Queue the transfer's task and make sure something runs it."""
    run_transfer_task.enqueue(str(transfer_id))
    wake_runner()


# ---------------------------------------------------------------- the in-process runner

_state = threading.Lock()
_wanted = False  # a task was queued since the runner last looked
_running = False


def uses_database_backend() -> bool:
    from django_tasks_db import DatabaseBackend

    return isinstance(task_backends["default"], DatabaseBackend)


def wake_runner() -> None:
    """Have this process's runner thread run every ready task (started if it is not running)."""
    global _wanted, _running
    if not uses_database_backend():
        return
    with _state:
        _wanted = True
        if _running:
            return
        _running = True
    threading.Thread(target=_run_until_idle, name="kalan-tasks", daemon=True).start()


def _run_until_idle() -> None:
    global _wanted, _running
    try:
        while True:
            with _state:
                if not _wanted:
                    _running = False
                    return
                _wanted = False
            run_ready_tasks()
    except Exception:
        # What is still queued runs at the next wake-up (a new task, or a progress page).
        with _state:
            _running = False
        log.exception("the task runner stopped")
    finally:
        connections.close_all()  # this thread's connections only


def run_ready_tasks() -> None:
    """Run every task of the default queue that is ready now, one after the other."""
    from django_tasks_db.management.commands.db_worker import Worker

    worker: Any = Worker(
        queue_names=[DEFAULT_TASK_QUEUE_NAME],
        interval=0.5,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"kalan-{uuid.uuid4().hex[:16]}",
        excluded_queue_names=[],
    )
    worker.run()
