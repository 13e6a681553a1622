"""The targets' side of their conversation with the tests (tests/harness.py)
and the benchmarks (bench/lib.sh): one line each way.

A target prints its ready line, then blocks reading stdin in os.read(),
with the GIL released and nothing else running, so that the heap pyleaks
walks is the heap the target answers about afterwards.  Two shapes:

- one request (the tests): request() returns the line that woke the
  target; it answers with send() and exits;
- commands (the benchmarks, fault_target): serve() answers one line per
  command until `quit` (answered `bye`) or the end of stdin.

Run by every interpreter under test (3.8+ syntax only).  bench/ targets
import it by adding this folder to sys.path."""

import json
import os

BLOCK_MARK = "# blocks" + " here"


def request():
    """The request line (with its newline; b"" or what came before the
    end of stdin if there is none)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        data += chunk
        # Not left for pyleaks to find in this frame next time.
        del chunk
    return data


def write(data):
    """Bytes to stdout, all of them, unbuffered."""
    while data:
        data = data[os.write(1, data):]


def line(obj):
    """obj as one line of JSON, encoded: a target that must not allocate
    between building its answer and sending it encodes it first."""
    return (json.dumps(obj) + "\n").encode()


def send(obj):
    write(line(obj))


def reply(text):
    write((text + "\n").encode())


def serve(handle):
    """Answer one command line at a time: handle(command) returns the
    reply line (str) or an object sent as JSON; `quit` is answered `bye`
    and ends serving, as does the end of stdin.  A reply of None means an
    unknown command."""
    buf = b""
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            command, buf = buf.split(b"\n", 1)
            command = command.decode("utf-8", "replace").strip()
            if command == "quit":
                reply("bye")
                return
            answer = handle(command)
            if answer is None:
                reply("error unknown command %r" % command)
            elif isinstance(answer, str):
                reply(answer)
            else:
                send(answer)


def block_line(path):
    """The line of `path` marked BLOCK_MARK: where py-bt shows the target
    waiting for its request."""
    with open(path) as f:
        return next(n for n, text in enumerate(f, 1) if BLOCK_MARK in text)
