"""A progress bar for long commands, redrawn in place on a terminal; silent in logs and pipes."""

import sys
import time
from typing import TextIO


def human_size(count: float) -> str:
    """1536 -> '1.5 KB'."""
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


class ProgressBar:
    """Call with (bytes done, bytes total, files done, files total); `close()` at the end."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.last_percent = -1
        self.drawn = False

    def __call__(self, done: int, total: int, files_done: int, files_total: int) -> None:
        if not self.tty:
            return  # in a log or a pipe, only the command's summary line is written
        percent = 100 if not total else min(100, done * 100 // total)
        now = time.monotonic()
        if now - self.last_draw < 0.1 and done < total:
            return
        self.last_draw, self.last_percent = now, percent
        filled = self.width * percent // 100
        speed = done / max(now - self.started, 1e-3)
        line = (
            f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {percent:3d}%"
            f"  {files_done}/{files_total} files  {human_size(done)}/{human_size(total)}"
            f"  {human_size(speed)}/s"
        )
        self.stream.write("\r" + line)
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
