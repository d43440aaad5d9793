"""The production server behind `kalan start`: gunicorn (ADR 0002).

Chosen by measurement on two cores; see docs/decisions/0002-server.md. This
module imports no Django: the workers load the application after the fork.
"""

import time
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.util import import_app
from gunicorn.workers.gthread import ThreadWorker

# How long a busy worker lets its siblings take a new connection first.
ACCEPT_YIELD_SECONDS = 0.002


class BalancedThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker, except that a worker already holding as many connections
    as it has threads waits a moment before accepting another, so that an idle sibling
    takes it. Keep-alive connections stay with the worker that accepted them: without this,
    ten connections opened at once often all landed on one of the two workers, which then
    served them on one core while the other idled (bench/results/content-search-*.md)."""

    def accept(self, listener: Any) -> None:
        if self.nr_conns >= self.cfg.threads:
            time.sleep(ACCEPT_YIELD_SECONDS)
        super().accept(listener)


class KalanServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # By name, as any WSGI server does: the application sits in the top layer.
        return import_app("kalan.config.wsgi:application")


def serve(*, host: str, port: int, workers: int, threads: int) -> None:
    """Serve until SIGTERM or Ctrl-C, then finish the requests under way and exit 0."""
    KalanServer(
        {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "kalan.server.BalancedThreadWorker" if threads > 1 else "sync",
            "loglevel": "warning",
            "accesslog": None,
            "graceful_timeout": 10,
            "timeout": 120,
            "keepalive": 5,
            "proc_name": "kalan",
        }
    ).run()
