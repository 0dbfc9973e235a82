"""An asyncio FastAGI server: one task per call, each driven by a handler coroutine.

A peer that sends garbage, stalls on its header block or drops the connection has only its own
connection closed; every other call goes on. The handler runs blocking work (the database) off the
event loop itself, in the loop's executor (`run_in_executor(None, ...)`: a few threads, see ServerThread).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from dialconf.telephony.agi import (
    HANGUP_LINE,
    MAX_HEADER_LINES,
    CommandFailed,
    Hangup,
    ProtocolError,
    Reply,
    parse_header_line,
    parse_reply,
)

log = logging.getLogger("dialconf.agi")
LINE_LIMIT = 8192  # bytes: a longer line is garbage, and the connection is closed
HEADER_TIMEOUT = 10.0  # seconds for the whole header block


class Channel:
    """One call: its AGI header values, and commands sent to Asterisk one at a time."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        headers: dict[str, str],
        *,
        reply_timeout: float,
    ) -> None:
        self.headers = headers
        self.hung_up = False
        self._reader = reader
        self._writer = writer
        self._reply_timeout = reply_timeout

    async def send(self, line: str) -> Reply:
        """Send one command and return its reply; Hangup when the caller is gone (and the reply says so)."""
        try:
            self._writer.write(line.encode() + b"\n")
            await self._writer.drain()
            # asyncio.timeout, not wait_for: no extra task per command (a call sends about nine)
            async with asyncio.timeout(self._reply_timeout):
                return await self._reply()
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            raise Hangup("connection lost") from exc
        except TimeoutError as exc:
            raise Hangup("no reply from Asterisk in time") from exc

    async def _reply(self) -> Reply:
        while True:
            text = await self._line()
            if text == HANGUP_LINE:
                self.hung_up = True  # the reply to the pending command still follows
                continue
            reply, more = parse_reply(text)
            while more:  # a 520- usage block: read up to its last line
                _, more = parse_reply(await self._line())
            if reply.code == 511:
                raise Hangup("the channel is dead")
            if reply.code != 200:
                raise CommandFailed(f"{reply.code} {reply.data}")
            return reply

    async def _line(self) -> str:
        raw = await self._reader.readline()
        if not raw:
            raise Hangup("connection closed")
        return raw.decode("utf-8", "replace").rstrip("\r\n")


Handler = Callable[[Channel], Awaitable[None]]


async def read_headers(reader: asyncio.StreamReader) -> dict[str, str]:
    """The header block up to its empty line; ProtocolError for anything that is not one."""
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        raw = await reader.readline()
        if not raw:
            raise ProtocolError("connection closed in the header block")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if not headers:
                raise ProtocolError("empty header block")
            return headers
        name, value = parse_header_line(line)
        headers[name] = value
    raise ProtocolError("header block too long")


class AgiServer:
    """Serves FastAGI connections on a listening socket with `handler`, until `close()`."""

    def __init__(self, handler: Handler, *, reply_timeout: float = 120.0) -> None:
        self._handler = handler
        self._reply_timeout = reply_timeout
        self._server: asyncio.Server | None = None
        self._calls: set[asyncio.Task[None]] = set()

    async def start(self, sock: socket.socket) -> None:
        self._server = await asyncio.start_server(self._connected, sock=sock, limit=LINE_LIMIT)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._calls):
            task.cancel()
        await asyncio.gather(*self._calls, return_exceptions=True)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._calls.add(task)
        try:
            await self._call(reader, writer)
        finally:
            if task is not None:
                self._calls.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _call(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            headers = await asyncio.wait_for(read_headers(reader), HEADER_TIMEOUT)
        except (ProtocolError, ValueError, asyncio.LimitOverrunError) as exc:
            log.warning("closed a connection from %s that does not speak FastAGI: %s", peer, exc)
            return
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            log.warning("closed a connection from %s that sent no header block in time", peer)
            return
        channel = Channel(reader, writer, headers, reply_timeout=self._reply_timeout)
        try:
            await self._handler(channel)
        except Hangup:
            pass  # the handler had its chance to record the hangup
        except (ProtocolError, ValueError, asyncio.LimitOverrunError, CommandFailed) as exc:
            log.warning("closed the call %s: %s", headers.get("agi_uniqueid", peer), exc)
        except Exception:
            log.exception("the call %s failed", headers.get("agi_uniqueid", peer))


class ServerThread:
    """An AgiServer on its own event loop in a daemon thread (for `dialconf up`, `dialconf agi` and tests)."""

    def __init__(
        self, sock: socket.socket, handler: Handler, *, reply_timeout: float = 120.0, workers: int = 4
    ) -> None:
        self.sock = sock
        self._workers = workers
        self._server = AgiServer(handler, reply_timeout=reply_timeout)
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dialconf-agi", daemon=True)

    @property
    def address(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def start(self) -> ServerThread:
        self._thread.start()
        self._started.wait(30)
        if self._failure is not None:
            raise self._failure
        return self

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        self.sock.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        # the threads the handler runs database work in (`run_in_executor(None, ...)`): a few, whatever the
        # number of cores: SQLite work mostly holds the GIL, so more threads only contend for it, and
        # staying under the engine's pool size (5) keeps every thread on a pooled connection instead of
        # opening and closing overflow connections (measured: 4 threads handle about 20% more calls than 8)
        self._loop.set_default_executor(ThreadPoolExecutor(self._workers, thread_name_prefix="dialconf-agi"))
        try:
            self._loop.run_until_complete(self._server.start(self.sock))
        except BaseException as exc:  # reported by start()
            self._failure = exc
            self._started.set()
            return
        self._started.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self._server.close())
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
            self._loop.close()
