"""Per-request log routing: which operation each line of a worker's stdout and stderr belongs to.

The worker's stdout and stderr are the function's log. After each operation it writes the
protocol's end marker (worker/protocol.py: END_LINE) to each stream the operation wrote to,
and its reply says which streams got one (`marked`). A line belongs to the oldest operation
whose marker has not yet passed on its stream; an operation is complete once every stream is
past it. Used by a served worker (runner/worker_process.py, two pipes, asyncio) and by
`handlerlens invoke` (runner/invoke.py, one pipe for both streams, a select loop), so neither
loads what the other needs: no asyncio, typing or dataclasses here (invoke's start-up).
"""

from __future__ import annotations

from collections import deque

from handlerlens.worker.protocol import END_MARKER

TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    # (operation's label, stream name, the line's bytes without its line break)
    LineSink = Callable[[str | None, str, bytes], None]

# A longer line is cut into pieces of this size (a handler printing without line breaks).
MAX_LINE = 64 * 1024


class _Op:
    """One operation whose log lines are being routed."""

    __slots__ = ("label", "marked", "on_settled", "future")

    def __init__(self, label: str | None) -> None:
        self.label = label
        # The end markers the worker wrote for it, per stream (from its reply); None until
        # the reply is in. A stream it did not write to has nothing to wait for.
        self.marked: dict[int, int] | None = None
        # Called the moment its last line has been routed (see when_done()).
        self.on_settled: Callable[[], None] | None = None
        self.future: asyncio.Future[None] | None = None  # made on asking (done_future())


class _Stream:
    __slots__ = ("fd", "name", "buffer", "seen", "used", "closed", "draining")

    def __init__(self, fd: int, name: str) -> None:
        self.fd = fd
        self.name = name
        self.buffer = bytearray()
        # End markers read from this stream, and how many belonged to settled operations.
        self.seen = 0
        self.used = 0
        self.closed = False
        self.draining = False  # closed: route what is left without waiting for anything


class LogRouter:
    """Routes the lines of a worker's output streams ({fd: name}) to `sink`, labelled with
    the operation that printed them, oldest first; says when an operation's log is complete.
    """

    def __init__(
        self, streams: dict[int, str], sink: LineSink, max_line: int | None = MAX_LINE
    ) -> None:
        self.sink = sink
        self.max_line = max_line
        self._streams = {fd: _Stream(fd, name) for fd, name in streams.items()}
        self._ops: deque[_Op] = deque()
        self._routing = False
        # In order: a later operation's line waits until the earlier one has ended on every
        # stream (a lent worker runs requests back to back: see worker_process.py).
        self.strict = False

    @property
    def pending(self) -> int:
        """Operations whose log is not complete yet."""
        return len(self._ops)

    def add(self, label: str | None) -> None:
        """An operation sent (or begun by the worker): its lines come next."""
        self._ops.append(_Op(label))

    def marked(self, fds: dict[int, int]) -> None:
        """The reply of the oldest operation still waiting for one (replies come in order):
        the end markers it wrote, per stream."""
        for op in self._ops:
            if op.marked is None:
                op.marked = fds
                break
        self._settle()

    def when_done(self, label: str, callback: Callable[[], None]) -> bool:
        """Call `callback` synchronously once every line of that operation has been routed,
        before the next line is (a future's callbacks would run after the whole read), so
        the next request's lines come after this one's END; False if that is already so."""
        for op in self._ops:
            if op.label == label:
                op.on_settled = callback
                return True
        return False

    def done_future(self, label: str | None) -> asyncio.Future[None] | None:
        """A future that completes when every line of that operation has been routed; None
        if that is already so."""
        for op in self._ops:
            if op.label == label:
                if op.future is None:
                    import asyncio

                    op.future = asyncio.get_running_loop().create_future()
                return op.future
        return None

    # -- reading -------------------------------------------------------------------------
    def output(self, fd: int, data: bytes) -> None:
        """Bytes read from a stream."""
        stream = self._streams.get(fd)
        if stream is None:
            return
        stream.buffer += data
        self._route_all()

    def closed(self, fd: int) -> None:
        """Nothing more comes on that stream: what it holds goes now, to the operations
        that printed it (a line without its line break too)."""
        stream = self._streams.get(fd)
        if stream is None or stream.closed:
            return
        stream.draining = True
        self._route(fd, stream)
        if stream.buffer:
            self._emit(stream, bytes(stream.buffer).replace(END_MARKER, b""))
            stream.buffer.clear()
        stream.closed = True
        if all(s.closed for s in self._streams.values()):
            while self._ops:
                self._finish(self._ops.popleft())
        else:
            self._settle()
            self._route_all()

    def _position(self, fd: int, stream: _Stream) -> int:
        """Index in `_ops` of the operation this stream's next line belongs to.

        An operation is over for a stream once its end markers have been read there, or, if
        it wrote nothing there, once its reply says so: never before the markers of the
        operations ahead of it, so back-to-back requests cannot overtake each other's lines.
        """
        if stream.closed:
            return len(self._ops)
        credit = stream.seen - stream.used
        for index, op in enumerate(self._ops):
            marked = op.marked
            if marked is None:
                return index
            need = marked.get(fd, 0)
            if need:
                if credit < need:
                    return index
                credit -= need
        return len(self._ops)

    def _emit(self, stream: _Stream, raw: bytes) -> None:
        index = self._position(stream.fd, stream)
        label = self._ops[index].label if index < len(self._ops) else None
        self.sink(label, stream.name, raw)

    def _route_all(self) -> None:
        """Route what every stream has, until none can go further."""
        if self._routing:
            return  # the loop below is running: it goes round again
        self._routing = True
        try:
            progress = True
            while progress:
                progress = False
                for fd, stream in self._streams.items():
                    if stream.buffer and self._route(fd, stream):
                        progress = True
        finally:
            self._routing = False

    def _route(self, fd: int, stream: _Stream) -> bool:
        """Route one stream's whole lines; whether any went."""
        buffer = stream.buffer
        max_line = self.max_line
        moved = False
        while True:
            if self.strict and not stream.draining:
                # Back-to-back requests on a lent worker: a later request's line waits until
                # the earlier one has ended on every stream (its END is then out), so each
                # request's lines sit between its own START and END.
                if self._position(fd, stream) > 0:
                    return moved
            newline = buffer.find(b"\n")
            if newline < 0:
                if max_line is not None and len(buffer) > max_line:
                    self._emit(stream, bytes(buffer[:max_line]))
                    del buffer[:max_line]
                    moved = True
                    continue
                return moved
            line = bytes(buffer[:newline])
            del buffer[: newline + 1]
            moved = True
            marker = line.find(END_MARKER)
            if marker < 0:
                self._emit(stream, line)
                continue
            marks = line.count(END_MARKER)
            rest = line.replace(END_MARKER, b"")
            if rest:  # printed without a line break before the operation ended
                self._emit(stream, rest)
            stream.seen += marks
            self._settle()

    def _settle(self) -> None:
        """Complete the operations every stream is past, oldest first."""
        streams = self._streams.items()
        while self._ops and all(self._position(fd, s) > 0 for fd, s in streams):
            op = self._ops.popleft()
            if op.marked is not None:
                for fd, stream in streams:
                    stream.used += op.marked.get(fd, 0)
            self._finish(op)

    @staticmethod
    def _finish(op: _Op) -> None:
        """Every line of `op` has been routed."""
        if op.future is not None and not op.future.done():
            op.future.set_result(None)
        if op.on_settled is not None:
            settled, op.on_settled = op.on_settled, None
            try:
                settled()
            except Exception:
                import logging  # not loaded by `invoke`, which never gets here

                logging.getLogger("handlerlens.runner").exception(
                    "runner: finishing a request's log failed"
                )
