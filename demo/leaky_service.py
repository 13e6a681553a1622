#!/usr/bin/env python3
"""A small "web service" that leaks memory the way real ones do.

It serves a warm-up of fake requests, then a burst every few seconds, and
sits idle in between (the common state of a server when somebody attaches
a debugger to it).  Every request leaves
something behind, through five classic causes:

1. a module-level cache of request objects that nothing ever evicts;
2. functools.lru_cache on a method: the cache key includes ``self``, so
   every renderer (and the request it holds) stays alive;
3. a mutable default argument that accumulates audit events;
4. failed requests' exceptions kept "for the error report": each keeps its
   traceback, the traceback its frames, the frames their locals;
5. a session <-> connection reference cycle, with the cycle collector
   disabled, so dropped sessions are never freed.

pyleaks' quick start (quickstart/demo.sh) runs it and points pyleaks at it.
Runs on CPython 3.8 and later; uses nothing outside the standard library.
"""

import argparse
import ctypes
import functools
import gc
import os
import sys
import time

# Cause 5: somebody disabled the collector "for latency".
gc.disable()


class Request:
    def __init__(self, request_id, method, path, user, body):
        self.request_id = request_id
        self.method = method
        self.path = path
        self.user = user
        self.headers = {
            "Host": "api.example.com",
            "User-Agent": "demo-client/1.0",
            "X-Request-Id": "req-%08d" % request_id,
        }
        self.body = body


class Response:
    def __init__(self, status, body):
        self.status = status
        self.body = body


class AuditEvent:
    def __init__(self, request_id, user, action):
        self.request_id = request_id
        self.user = user
        self.action = action
        self.at = time.time()


class Connection:
    def __init__(self, session):
        self.session = session
        self.send_buffer = bytearray(256)


class Session:
    def __init__(self, user):
        self.user = user
        self.connection = Connection(self)


class ValidationError(Exception):
    pass


# Cause 1: "recent requests, for the /debug/requests page" -- never trimmed.
RECENT_REQUESTS = {}

# Cause 4: "errors, for the nightly report" -- never trimmed.
FAILED_REQUESTS = []


class TemplateRenderer:
    def __init__(self, request):
        self.request = request

    # Cause 2: the cache key is (self, template): every renderer lives on.
    @functools.lru_cache(maxsize=None)
    def render(self, template):
        return template.format(path=self.request.path, user=self.request.user)


# Cause 3: the default list is created once and shared by every call.
def audit(event, log=[]):
    log.append(event)
    return len(log)


def validate(request):
    payload = request.body  # kept alive by the traceback's frame
    if request.request_id % 25 == 0:
        raise ValidationError("request %d: body of %d bytes rejected"
                              % (request.request_id, len(payload)))


def handle(request):
    session = Session(request.user)  # dropped on return, freed never
    validate(request)
    RECENT_REQUESTS[request.request_id] = request
    html = TemplateRenderer(request).render("<h1>{path}</h1><p>{user}</p>")
    audit(AuditEvent(request.request_id, session.user, request.method))
    return Response(200, html.encode())


def serve_burst(first_id, count):
    for request_id in range(first_id, first_id + count):
        request = Request(request_id, "POST", "/api/orders/%d" % (request_id % 97),
                          "user%d" % (request_id % 13),
                          b"x" * (512 + request_id % 256))
        try:
            handle(request)
        except ValidationError as exc:
            FAILED_REQUESTS.append(exc)
    return first_id + count


def allow_debuggers():
    # Where Yama restricts ptrace to ancestors (kernel.yama.ptrace_scope=1),
    # let any process of our user attach: pyleaks is our sibling, not our
    # parent.  Without Yama the call fails harmlessly.
    pr_set_ptracer, pr_set_ptracer_any = 0x59616D61, ctypes.c_ulong(-1)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_ptracer,
                                                pr_set_ptracer_any, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def signal_ready(path):
    # Write then rename, so a reader never sees a half-written file.
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warmup", type=int, default=5000,
                        help="requests served before signalling ready "
                             "(default 5000)")
    parser.add_argument("--burst", type=int, default=500,
                        help="requests served per later burst (default 500)")
    parser.add_argument("--interval", type=float, default=5.0,
                        help="seconds between bursts (default 5)")
    parser.add_argument("--lifetime", type=float, default=300.0,
                        help="exit after this many seconds (default 300)")
    parser.add_argument("--ready-file",
                        help="write our PID here once the warm-up is served")
    args = parser.parse_args()

    allow_debuggers()
    parent = os.getppid()
    started = time.monotonic()
    next_id = serve_burst(1, args.warmup)
    print("leaky_service: pid %d ready, %d requests served"
          % (os.getpid(), next_id - 1), flush=True)
    if args.ready_file:
        signal_ready(args.ready_file)

    while time.monotonic() - started < args.lifetime:
        idle_until = time.monotonic() + args.interval
        while time.monotonic() < idle_until:
            time.sleep(0.5)
            # Whoever started us is gone: do not linger as an orphan.
            if os.getppid() != parent:
                return 0
        next_id = serve_burst(next_id, args.burst)
        print("leaky_service: %d requests served" % (next_id - 1), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
