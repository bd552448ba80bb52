"""The supervisor↔worker pipe protocol: message names, payload types, framing, the end marker.

Both sides speak it from this one module: the worker (serve.py, direct.py, debugging.py) and
the runner (runner/worker_process.py for `serve`, runner/invoke.py for `invoke`), which imports
it as `handlerlens.worker.protocol`. It lives in the worker package because the worker loads
it at every start (standard library and relative imports only), while the runner can always
import the worker's modules.

The pipes:
- control (supervisor → worker): one frame per operation, TO_WORKER.
- result (worker → supervisor): FROM_WORKER frames. REPLIES answer the operation in flight,
  one each, in order; DEBUG frames say the worker is attached or paused (--debug); LENDING
  frames are about connections lent to the worker (runner/lender.py, worker/direct.py).
- the worker's stdout and stderr are the function's log: after each operation the worker
  writes END_LINE to each stream the operation wrote to, and says which in the reply's
  `marked` — so the supervisor knows which request every log line belongs to.

A frame is an 8-byte header (meta length, payload length; 4 bytes each, big-endian), the
meta as compact UTF-8 JSON, and the payload bytes as they are: events and results travel as
payload, so a JSON body is never parsed and re-encoded on its way through.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False  # typing is not loaded at run time: every worker start imports this
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final, Literal, TypedDict

# -- names ---------------------------------------------------------------------------------
# Supervisor → worker.
INIT: Final = "init"  # load the function (InitMessage); answered READY
INVOKE: Final = "invoke"  # run it once (InvokeMessage, the event as payload); answered RESULT
RELEASE: Final = "release"  # give every lent connection back; answered RELEASED (a LENDING frame)
EXIT: Final = "exit"  # end the instance now; never answered
TO_WORKER = frozenset({INIT, INVOKE, RELEASE, EXIT})

# Worker → supervisor.
READY: Final = "ready"  # INIT's reply (ReadyReply)
RESULT: Final = "result"  # INVOKE's reply (ResultReply, the marshalled result as payload)
ERROR: Final = "error"  # the reply to an operation the worker does not know
DEBUG: Final = "debug"  # attached by the debugger, or paused / resumed at a breakpoint (DebugFrame)
DIRECT_START: Final = "direct-start"  # began a request on a lent connection (DirectStart)
DIRECT_END: Final = "direct-end"  # ended it: a ResultReply with the connection (DirectEnd)
DIRECT_CLOSED: Final = "direct-closed"  # a lent connection closed (DirectClosed)
HANDBACK: Final = "handback"  # a lent connection given back, with what it read (Handback)
RELEASED: Final = "released"  # RELEASE's answer: every lent connection back (Released)
REPLIES = frozenset({READY, RESULT, ERROR})
LENDING = frozenset({DIRECT_START, DIRECT_END, DIRECT_CLOSED, HANDBACK, RELEASED})
FROM_WORKER = REPLIES | LENDING | {DEBUG}

# -- the log's end marker ------------------------------------------------------------------
# Written after each operation to each stream it wrote to (see the module's docstring).
END_MARKER = b"\x1e\x1eHANDLERLENS-END\x1e\x1e"
END_LINE = END_MARKER + b"\n"

# -- payload types (for the type checker; at run time every meta is a plain dict) ----------
if TYPE_CHECKING:

    class InitMessage(TypedDict, total=False):
        op: Literal["init"]
        platform: str
        entry: str
        env: dict[str, str]
        context: dict[str, Any]
        breakpoints: dict[str, Any]  # under --debug: what the supervisor saw set
        writable: list[str]  # the paths a write may go to; absent under --writable
        paths: list[str]  # the function's local layers' sys.path entries, after the code root
        # What the deployment provides (worker/deployed.py): "dists" the packaged requirements
        # (canonical names), "names" the modules the platform preinstalls, "roots" folders the
        # deployment adds (layers built from project folders), "manifest" the file listing
        # the requirements (or None), "layers" true when the function may have other layers,
        # "unnamed" true when the manifest installs something by URL or path; "told" the
        # modules an earlier worker of this function said already (not said again).
        # Absent: imports are not compared with the deployment.
        deployed: dict[str, Any]

    class InvokeMessage(TypedDict, total=False):
        op: Literal["invoke"]
        rid: str
        deadlineMs: int
        mode: str  # json | raw
        traceId: str
        clientContext: Any
        tenantId: str

    class ReadyReply(TypedDict, total=False):
        op: Literal["ready"]
        ok: bool
        initMs: float
        error: dict[str, Any]
        direct: bool  # the worker can answer lent connections
        maxRssKb: int
        marked: list[int]  # the streams given an end marker
        deployedTold: list[str]  # the modules said to fail deployed (InitMessage deployed)

    class ResultReply(TypedDict, total=False):
        op: str  # "result", or "direct-end" on a lent connection
        ok: bool
        kind: str  # json | str | bytes
        errorKind: str  # init | unhandled | marshal | unserialisable
        error: dict[str, Any]
        detail: str
        repr: str
        maxRssKb: int
        marked: list[int]

    class DirectEnd(ResultReply, total=False):
        conn: int
        status: int  # with the access log: the answer's status and duration
        ms: float
        warning: str

    class DebugFrame(TypedDict, total=False):
        op: Literal["debug"]
        attached: bool
        paused: bool

    class DirectStart(TypedDict, total=False):
        op: Literal["direct-start"]
        rid: str
        conn: int
        head: bool  # a HEAD request (set with `close`, when either is true)
        close: bool  # the connection closes after it
        line: str  # the request line, for the access log

    class DirectClosed(TypedDict, total=False):
        op: Literal["direct-closed"]
        conn: int
        dropped: str  # a request not run: its client left while it waited

    class Handback(TypedDict, total=False):
        op: Literal["handback"]
        conn: int
        unsent: int  # the payload's first bytes: a response still to write
        close: bool
        expired: bool  # stalled past the head or body timeout

    class Released(TypedDict):
        op: Literal["released"]
        conns: list[int]
        sizes: list[int]  # of each connection's unread bytes, in the payload

    class LendSettings(TypedDict, total=False):
        """Sent with lent descriptors on the lending socket (not a pipe frame)."""

        conns: list[int]
        timeout: float
        platform: str
        version: str | None  # API Gateway's payload version (AWS)
        access: bool
        # Routed connections (worker/routed.py): the route table's generation they were lent
        # under, and the table itself when this worker has not had that generation yet.
        routed: int
        routes: dict[str, Any]


# -- framing -------------------------------------------------------------------------------
HEADER_SIZE = 8
# Two frames a warm request on a lent connection (direct-start, direct-end), each encoded by
# the worker and decoded by the supervisor: what json.dumps and json.loads do per call beyond
# the C encoder and scanner (option checks, an encoder built per call, two regex matches for
# surrounding whitespace) is done once here instead. Same JSON text, same values.
_META_JSON = json.JSONEncoder(separators=(",", ":"))
_META_DECODER = json.JSONDecoder()


def _meta_encoder() -> Callable[[Any], str]:
    """_META_JSON.encode, without building its C encoder again for every frame."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator (not CPython): the encoder's own method
        return _META_JSON.encode
    e = _META_JSON
    chunks = make(
        None,  # no cycle check: a frame's meta is built by this code, never circular
        e.default,
        json.encoder.encode_basestring_ascii,
        e.indent,
        e.key_separator,
        e.item_separator,
        e.sort_keys,
        e.skipkeys,
        e.allow_nan,
    )
    join = "".join

    def encode_meta(meta: Any) -> str:
        return join(chunks(meta, 0))

    return encode_meta


_encode_meta = _meta_encoder()


def split_header(head: bytes | bytearray) -> tuple[int, int]:
    """(meta length, payload length) from a frame's first HEADER_SIZE bytes."""
    return int.from_bytes(head[:4], "big"), int.from_bytes(head[4:8], "big")


def encode(meta: Any, payload: bytes = b"") -> bytes:
    """One frame as bytes."""
    head = _encode_meta(meta).encode("utf-8")
    return len(head).to_bytes(4, "big") + len(payload).to_bytes(4, "big") + head + payload


def decode_meta(data: bytes | bytearray) -> dict[str, Any]:
    """A frame's meta (UTF-8 JSON: decoded first, json skips guessing the encoding)."""
    if not data:
        return {}
    text = data.decode("utf-8")
    try:
        meta, end = _META_DECODER.raw_decode(text)
    except ValueError:
        end = -1
    if end != len(text):  # not one JSON value alone: json.loads reads it as before
        meta = json.loads(text)
    result: dict[str, Any] = meta
    return result


class FrameReader:
    """Frames from a byte stream read in pieces of any size: feed() what was read, then
    take() whole frames, in order, until it says None (a partial frame waits for more).

    One frame at a time, so a frame's handler may feed more (a reader that drains the pipe
    from inside a handler) without anything overtaking the frames still buffered.
    """

    __slots__ = ("buffer",)

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> None:
        """Bytes read from the stream."""
        self.buffer += data

    def take(self) -> tuple[dict[str, Any], bytes] | None:
        """The next whole frame, now removed from the buffer; None if there is none yet."""
        buffer = self.buffer
        if len(buffer) < HEADER_SIZE:
            return None
        meta_end = HEADER_SIZE + int.from_bytes(buffer[:4], "big")
        total = meta_end + int.from_bytes(buffer[4:8], "big")
        if len(buffer) < total:
            return None
        meta = decode_meta(buffer[HEADER_SIZE:meta_end])
        payload = bytes(buffer[meta_end:total]) if total > meta_end else b""
        del buffer[:total]
        return meta, payload
