"""Small runner helpers whose speed-ups must not change their answers."""

from __future__ import annotations

import uuid

from handlerlens.platforms.runner_env import request_id


def test_request_ids_are_canonical_random_uuid4_strings():
    seen = set()
    for _ in range(2000):
        rid = request_id()
        parsed = uuid.UUID(rid)
        assert str(parsed) == rid  # lower-case hex, 8-4-4-4-12
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        seen.add(rid)
    assert len(seen) == 2000


def test_a_forked_child_does_not_repeat_its_parents_request_ids():
    import os

    request_id()  # the parent now holds unread random bytes
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write_end, " ".join(request_id() for _ in range(5)).encode())
        os._exit(0)
    os.close(write_end)
    child = os.read(read_end, 4096).decode().split()
    os.close(read_end)
    os.waitpid(pid, 0)
    parent = [request_id() for _ in range(5)]
    assert len(child) == 5 and not set(child) & set(parent)


def test_remembered_header_names_and_request_times_stay_exact():
    from handlerlens.platforms.yandex_http_event import canonical_header, common_log_time

    for _ in range(2):  # the second round is served from memory
        assert canonical_header("x-request-id") == "X-Request-Id"
        assert canonical_header("CONTENT-type") == "Content-Type"
        assert canonical_header("x--odd-") == "X--Odd-"
    assert common_log_time(1657713539.9) == "13/Jul/2022:11:58:59 +0000"
    assert common_log_time(1657713539.1) == "13/Jul/2022:11:58:59 +0000"
    assert common_log_time(1657713540.0) == "13/Jul/2022:11:59:00 +0000"
    assert common_log_time(0.5) == "01/Jan/1970:00:00:00 +0000"


def test_worker_frames_are_read_whole_however_the_bytes_arrive():
    import os
    import threading

    from handlerlens.worker import channel

    read_end, write_end = os.pipe()
    frames = [({"op": "invoke", "n": n}, os.urandom(n * 9000)) for n in range(12)]
    blob = b"".join(channel.encode(meta, payload) for meta, payload in frames)

    def writer() -> None:
        # Odd-sized pieces: frames split across reads and several frames in one read.
        step = 1
        position = 0
        while position < len(blob):
            position += os.write(write_end, blob[position : position + step])
            step = step * 7 % 40_000 + 1
        os.close(write_end)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for meta, payload in frames:
            assert channel.recv(read_end) == (meta, payload)
        assert channel.recv(read_end) is None  # end of file after the last frame
    finally:
        thread.join()
        os.close(read_end)
