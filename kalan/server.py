"""The production server behind `kalan start`: gunicorn (ADR 0002).

Chosen by measurement on two cores; see docs/decisions/0002-server.md. This
module imports no Django: the workers load the application after the fork.
"""

from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.util import import_app


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
            "worker_class": "gthread" if threads > 1 else "sync",
            "loglevel": "warning",
            "accesslog": None,
            "graceful_timeout": 10,
            "timeout": 120,
            "keepalive": 5,
            "proc_name": "kalan",
        }
    ).run()
