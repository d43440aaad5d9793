"""Runs one command of the sync benchmark in its own process group, bounded in time.

`run_group()` starts the command in a new session (so it and everything it starts form one
process group), waits for it with os.wait4() to get its own peak RSS, and kills the whole group
(SIGTERM, then SIGKILL) when it times out or when the benchmark itself is interrupted
(Ctrl-C, SIGTERM turned into SystemExit). Output goes to a log file, never to a pipe, so a
chatty command cannot block.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import foundation as fb


@dataclass
class Done:
    argv: list[str]
    returncode: int
    wall_s: float
    maxrss_kib: int  # peak resident set of the command (and of its children it waited for)
    user_s: float
    sys_s: float
    log: Path
    timed_out: bool

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, chars: int = 3000) -> str:
        return self.output()[-chars:]


def _reap(pid: int, deadline: float) -> tuple[int, os.struct_rusage] | None:
    """Polls until the process exits (returns its wait status and rusage) or the deadline."""
    delay = 0.005
    while True:
        got, status, usage = os.wait4(pid, os.WNOHANG)
        if got == pid:
            return status, usage
        if time.monotonic() >= deadline:
            return None
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _kill_group(pid: int) -> tuple[int, os.struct_rusage] | None:
    for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        try:
            reaped = _reap(pid, time.monotonic() + grace)
        except ChildProcessError:
            return None
        if reaped is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)  # anything of the group that outlived it
            return reaped
    return None


def run_group(
    argv: list, env: dict, timeout: float, log: Path, check: bool = True, cwd: Path | None = None
) -> Done:
    """Runs argv to completion within `timeout` seconds. Raises RuntimeError when it times out
    or (with check) exits non-zero; the group is killed in every case where it is still alive."""
    argv = [str(a) for a in argv]
    log.parent.mkdir(parents=True, exist_ok=True)
    fb.log("$", " ".join(argv)[:300])
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=str(cwd or fb.WORK),
        )
        reaped = None
        try:
            reaped = _reap(proc.pid, time.monotonic() + timeout)
        finally:
            timed_out = reaped is None
            if timed_out:  # timeout, or interrupted while waiting
                reaped = _kill_group(proc.pid)
            else:  # the leader is gone: clear out any straggler of its group
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
            wall = time.perf_counter() - t0
            status, usage = reaped if reaped else (-1, None)
            proc.returncode = os.waitstatus_to_exitcode(status) if reaped else -9
    done = Done(
        argv=argv,
        returncode=proc.returncode,
        wall_s=round(wall, 2),
        maxrss_kib=usage.ru_maxrss if usage else 0,
        user_s=round(usage.ru_utime, 2) if usage else 0.0,
        sys_s=round(usage.ru_stime, 2) if usage else 0.0,
        log=log,
        timed_out=timed_out,
    )
    if timed_out:
        raise RuntimeError(f"timed out after {timeout:.0f} s and was killed: {argv}; see {log}")
    if check and done.returncode != 0:
        raise RuntimeError(f"command failed ({done.returncode}): {argv}\n{done.tail()}")
    return done


def marked_json_line(text: str, marker: str) -> str:
    """The payload of the last output line that starts with `marker ` (raises if none)."""
    lines = [x for x in text.splitlines() if x.startswith(marker + " ")]
    if not lines:
        raise RuntimeError(f"no {marker} line in the output:\n{text[-3000:]}")
    return lines[-1][len(marker) + 1 :]
