"""A loopback TCP proxy that counts the bytes of a sync in each direction.

    proxy = CountingProxy(listen_port, target_port).start()
    before = proxy.snapshot()
    ...                          # a sync client talks to http://127.0.0.1:<listen_port>
    used = proxy.since(before)   # {"up": client->server bytes, "down": ..., "connections": ...}
    proxy.stop()

Counts TCP payload (HTTP headers and bodies as sent, before any decompression), not IP or TCP
headers. Both ends are 127.0.0.1 only. Runs an asyncio loop in a daemon thread of the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

LOOPBACK = "127.0.0.1"
CHUNK = 65536


class CountingProxy:
    def __init__(self, listen_port: int, target_port: int):
        self.listen_port = listen_port
        self.target_port = target_port
        self.stats = {"up": 0, "down": 0, "connections": 0, "failed_connects": 0}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stopping: asyncio.Event | None = None

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.listen_port}"

    def _add(self, key: str, n: int) -> None:
        with self._lock:
            self.stats[key] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.stats)

    def since(self, before: dict[str, int]) -> dict[str, int]:
        now = self.snapshot()
        return {k: now[k] - before.get(k, 0) for k in now}

    async def _pipe(self, reader, writer, key: str) -> None:
        try:
            while data := await reader.read(CHUNK):
                self._add(key, len(data))
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                if writer.can_write_eof():
                    writer.write_eof()
                else:
                    writer.close()

    async def _handle(self, client_r, client_w) -> None:
        self._add("connections", 1)
        try:
            server_r, server_w = await asyncio.open_connection(LOOPBACK, self.target_port)
        except OSError:
            self._add("failed_connects", 1)
            client_w.close()
            return
        try:
            await asyncio.gather(
                self._pipe(client_r, server_w, "up"), self._pipe(server_r, client_w, "down")
            )
        finally:
            for w in (client_w, server_w):
                with contextlib.suppress(Exception):
                    w.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._handle, LOOPBACK, self.listen_port)
        self._ready.set()
        async with server:
            await self._stopping.wait()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    def start(self) -> CountingProxy:
        """Listens on 127.0.0.1:listen_port; raises if that fails."""
        self._thread = threading.Thread(target=self._run, name="sync-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self._error is not None:
            raise RuntimeError(f"proxy on port {self.listen_port} did not start: {self._error}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None and self._thread is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(10)
        self._thread = None
