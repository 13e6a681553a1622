"""The clean program of the findings tests (tests/test_findings.py): a
busy, realistic service with no leak, where `py-leaks --json` must find
nothing ("findings": []) at two looks with a round of work in between.

What it does, each round (the same work every round, so that every
container has the same size after each round):
- threads: a ThreadPoolExecutor of 4 workers, a consumer thread fed by a
  queue.Queue, a logging QueueListener thread, and a ticker thread that
  wakes every 0.2 s (also while pyleaks looks) and updates bounded
  metrics;
- stdlib: json, re, logging (QueueHandler/QueueListener, MemoryHandler,
  a ring-buffer handler, a StreamHandler on /dev/null), collections,
  asyncio (an event loop run briefly: producer/consumer on an
  asyncio.Queue, gather, wait_for, run_in_executor), functools.lru_cache
  (maxsize=128) on plain functions of ints and strings, dataclasses,
  enum, decimal, sqlite3 (in memory, old rows deleted), xml.etree,
  email, http.client (a response parsed from a socket-like object,
  connection objects), urllib.parse, concurrent.futures, weakref,
  hashlib, base64, datetime;
- bounded caches: an OrderedDict LRU trimmed to 500, a dict trimmed to
  600, deques with maxlen, a WeakValueDictionary of live orders;
- an event bus with 6 observers (long-lived services);
- exceptions raised and caught (bad JSON, missing keys, invalid
  decimals, validation errors, logger.exception through the queue
  handler, which drops the traceback), none kept;
- the collector enabled, default thresholds.

Four warm-up rounds run before the first look (caches full, every
thread started, every module imported).

Protocol, one JSON line each way (findings_harness.py):
1. prints {"ready": true, "pid", "python_version", "scenario": "clean",
   "looks": 2, "threads": n} and blocks in protocol.request();
2. {"op": "work"}: one round of work (its threads done with it), then
   {"worked": round, "rounds": n} and blocks again;
3. {"op": "oracle"}: {"scenario": "clean", "expected": [], ...,
   "info": {"grown": [...]}}: "grown" lists the containers the gc module
   finds (dict, list, set, deque) that were there at the first look and
   hold 20 or more items more now -- none, when the work is steady
   (a diagnostic for failure messages: an address reused by another
   container shows as growth too); then exits 0.
"""

import asyncio
import base64
import collections
import concurrent.futures
import dataclasses
import datetime
import decimal
import email
import email.message
import email.policy
import enum
import functools
import gc
import hashlib
import http.client
import io
import json
import logging
import logging.handlers
import os
import platform
import queue
import re
import sqlite3
import sys
import threading
import time
import urllib.parse
import weakref
import xml.etree.ElementTree as ET

import protocol
from typenames import type_name

# ---------------------------------------------------------------------------
# The domain

class Status(enum.Enum):
    NEW = "new"
    PAID = "paid"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


@dataclasses.dataclass
class Order:
    order_id: int
    sku: str
    qty: int
    unit_price: decimal.Decimal
    status: Status = Status.NEW
    tags: list = dataclasses.field(default_factory=list)

    @property
    def total(self):
        return (self.unit_price * self.qty).quantize(decimal.Decimal("0.01"))


class ValidationError(Exception):
    pass


SKU_RE = re.compile(r"^(?P<family>[A-Z]{3})-(?P<num>\d{5})$")
WORD_RE = re.compile(r"[a-z]+")


@functools.lru_cache(maxsize=128)
def normalize_sku(text):
    return text.strip().upper().replace("_", "-")


@functools.lru_cache(maxsize=128)
def tax_rate(region):
    return decimal.Decimal(5 + region % 16) / 100


@functools.lru_cache(maxsize=128)
def slugify(title):
    return "-".join(WORD_RE.findall(title.lower()))


def validate(order):
    m = SKU_RE.match(order.sku)
    if not m:
        raise ValidationError("bad sku %r" % order.sku)
    if order.qty <= 0:
        raise ValidationError("bad quantity %d" % order.qty)
    return m.group("family")


# ---------------------------------------------------------------------------
# Logging: a queue handler feeding a listener thread, a memory handler,
# a ring buffer of formatted lines.

class RingHandler(logging.Handler):
    def __init__(self, size):
        super().__init__()
        self.lines = collections.deque(maxlen=size)

    def emit(self, record):
        self.lines.append(self.format(record))


LOG_QUEUE = queue.Queue()
RING = RingHandler(200)
RING.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
DEVNULL = open(os.devnull, "w")
NULL_STREAM = logging.StreamHandler(DEVNULL)
LISTENER = logging.handlers.QueueListener(LOG_QUEUE, RING, NULL_STREAM)

log = logging.getLogger("shop")
log.setLevel(logging.INFO)
log.propagate = False
log.addHandler(logging.handlers.QueueHandler(LOG_QUEUE))

AUDIT_RING = RingHandler(100)
audit_log = logging.getLogger("shop.audit")
audit_log.propagate = False
audit_log.setLevel(logging.INFO)
AUDIT_MEMORY = logging.handlers.MemoryHandler(20, flushLevel=logging.ERROR, target=AUDIT_RING)
audit_log.addHandler(AUDIT_MEMORY)
AUDIT_PER_ROUND = 40     # a multiple of the memory handler's capacity


# ---------------------------------------------------------------------------
# Bounded state

SESSION_MAX = 500
SESSIONS = collections.OrderedDict()         # an LRU of sessions
RESULTS_MAX = 600
RESULTS = {}                                 # trimmed to RESULTS_MAX
RECENT_REQUESTS = collections.deque(maxlen=300)
METRICS = collections.deque([(0.0, 0)] * 50, maxlen=50)
GAUGES = {"ticks": 0, "orders": 0, "errors": 0, "jobs": 0}
ORDERS_MAX = 400
ORDERS = {}                                  # the open orders, trimmed
LIVE_ORDERS = weakref.WeakValueDictionary()  # the same, weakly
PROCESSED = collections.deque(maxlen=250)


def trim(d, limit):
    while len(d) > limit:
        del d[next(iter(d))]


def touch_session(sid):
    s = SESSIONS.get(sid)
    if s is None:
        s = SESSIONS[sid] = {"sid": sid, "hits": 0, "created": time.time()}
    else:
        SESSIONS.move_to_end(sid)
    s["hits"] += 1
    while len(SESSIONS) > SESSION_MAX:
        SESSIONS.popitem(last=False)


# ---------------------------------------------------------------------------
# Observers: a handful of long-lived services on an event bus.

class EventBus:
    def __init__(self):
        self.listeners = []

    def subscribe(self, fn):
        self.listeners.append(fn)

    def publish(self, event, payload):
        for fn in self.listeners:
            fn(event, payload)


class Mailer:
    def __init__(self):
        self.sent = collections.deque(maxlen=100)

    def on_event(self, event, payload):
        if event == "paid":
            self.sent.append(build_mail(payload))


class Stats:
    def __init__(self):
        self.counts = collections.Counter()

    def on_event(self, event, payload):
        self.counts[event] += 1


class Inventory:
    def __init__(self):
        self.stock = {"ABC": 10 ** 6, "DEF": 10 ** 6, "GHI": 10 ** 6}

    def on_event(self, event, payload):
        if event == "paid":
            family = payload.sku[:3]
            self.stock[family] = self.stock.get(family, 0) - payload.qty + payload.qty


class Search:
    def __init__(self):
        self.index = {}

    def on_event(self, event, payload):
        if event == "new":
            self.index[payload.order_id % 64] = slugify("order %s %s" % (payload.sku, event))


def on_any(event, payload):
    GAUGES["orders"] += event == "new"


def on_cancel(event, payload):
    if event == "cancelled":
        log.info("order %d cancelled", payload.order_id)


BUS = EventBus()
MAILER, STATS, INVENTORY, SEARCH = Mailer(), Stats(), Inventory(), Search()
for _fn in (MAILER.on_event, STATS.on_event, INVENTORY.on_event, SEARCH.on_event,
            on_any, on_cancel):
    BUS.subscribe(_fn)
del _fn


# ---------------------------------------------------------------------------
# Storage: sqlite3 in memory, old rows deleted.

DB = sqlite3.connect(":memory:")
DB.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, sku TEXT, qty INTEGER, "
           "total TEXT, status TEXT)")
DB_KEEP = 500


def store(orders):
    with DB:
        DB.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
                       [(o.order_id, o.sku, o.qty, str(o.total), o.status.value)
                        for o in orders])
        DB.execute("DELETE FROM orders WHERE id <= (SELECT MAX(id) FROM orders) - ?",
                   (DB_KEEP,))
    return DB.execute("SELECT COUNT(*), status FROM orders GROUP BY status").fetchall()


# ---------------------------------------------------------------------------
# Formats: xml, email, http, urls, json.

def catalog_xml(n):
    root = ET.Element("catalog", {"version": "2"})
    for i in range(n):
        item = ET.SubElement(root, "item", {"sku": "ABC-%05d" % i})
        ET.SubElement(item, "price").text = "%d.%02d" % (i, i % 100)
    data = ET.tostring(root, encoding="utf-8")
    parsed = ET.fromstring(data)
    return sum(decimal.Decimal(p.text) for p in parsed.iterfind("item/price"))


def build_mail(order):
    msg = email.message.EmailMessage()
    msg["Subject"] = "Order %d paid" % order.order_id
    msg["From"] = "shop@example.com"
    msg["To"] = "customer-%d@example.com" % (order.order_id % 50)
    msg.set_content("Thank you for order %d: %s x %d" % (order.order_id, order.sku, order.qty))
    raw = msg.as_bytes()
    back = email.message_from_bytes(raw, policy=email.policy.default)
    return str(back["Subject"])


class FakeSocket:
    """What http.client.HTTPResponse reads a response from."""

    def __init__(self, data):
        self.data = data

    def makefile(self, mode, *args, **kwargs):
        return io.BytesIO(self.data)


def http_roundtrip(i):
    body = json.dumps({"id": i, "ok": True}).encode()
    raw = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\nX-Request-Id: %d\r\n\r\n" % (len(body), i)) + body
    resp = http.client.HTTPResponse(FakeSocket(raw))
    resp.begin()
    payload = json.loads(resp.read())
    resp.close()
    conn = http.client.HTTPConnection("api.example.invalid", 8080, timeout=3)
    conn.close()
    return payload["id"], resp.getheader("X-Request-Id")


def url_work(i):
    url = "https://shop.example.com/api/v1/orders?%s" % urllib.parse.urlencode(
        {"page": i % 7, "q": "red shoes", "sort": "-date"})
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    return urllib.parse.urljoin(url, "../items/%s" % urllib.parse.quote(query["q"][0]))


# ---------------------------------------------------------------------------
# Work in threads: a pool, a consumer of a job queue, a ticker.

POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="pool")
JOBS = queue.Queue()
STOP = threading.Event()


def cpu_task(i):
    h = hashlib.sha256(("payload-%d" % i).encode()).digest()
    return base64.b64encode(h).decode()[:12]


def consumer():
    while True:
        item = JOBS.get()
        try:
            if item is None:
                return
            PROCESSED.append((item, cpu_task(item)))
            GAUGES["jobs"] += 1
        finally:
            JOBS.task_done()


def ticker():
    while not STOP.wait(0.2):
        GAUGES["ticks"] += 1
        METRICS.append((time.monotonic(), len(RESULTS)))


def start_threads():
    # All four pool workers at once, so that later rounds start none.
    barrier = threading.Barrier(4)
    list(POOL.map(lambda _: barrier.wait(10), range(4)))
    threads = [threading.Thread(target=consumer, name="consumer", daemon=True),
               threading.Thread(target=ticker, name="ticker", daemon=True)]
    for t in threads:
        t.start()
    LISTENER.start()
    return threads


# ---------------------------------------------------------------------------
# asyncio: an event loop run briefly each round.

async def async_round(base, n):
    q = asyncio.Queue(maxsize=16)
    results = []

    async def producer():
        for i in range(n):
            await q.put(base + i)
        await q.put(None)

    async def worker():
        loop = asyncio.get_running_loop()
        while True:
            i = await q.get()
            if i is None:
                return
            digest = await loop.run_in_executor(POOL, cpu_task, i)
            await asyncio.sleep(0)
            results.append(digest)

    await asyncio.wait_for(asyncio.gather(producer(), worker()), timeout=30)
    extra = await asyncio.gather(*(asyncio.sleep(0, result=k) for k in range(10)))
    return len(results) + len(extra)


# ---------------------------------------------------------------------------
# One round

ROUND = [0]
WARMUP_ROUNDS = 4     # every bounded cache full, every thread started
ORDERS_PER_ROUND = 300


def one_round():
    r = ROUND[0]
    ROUND[0] += 1
    base = r * ORDERS_PER_ROUND
    orders = []
    for k in range(ORDERS_PER_ROUND):
        i = base + k
        payload = json.dumps({"id": i, "sku": "%s_%05d" % ("abc def ghi".split()[i % 3], i % 400),
                              "qty": i % 5, "price": "%d.%02d" % (i % 90 + 1, i % 100)})
        if k % 50 == 0:
            payload = payload[:-3]       # a truncated request
        try:
            data = json.loads(payload)
            o = Order(data["id"], normalize_sku(data["sku"]), data["qty"],
                      decimal.Decimal(data["price"]) * (1 + tax_rate(i % 40)))
            validate(o)
        except json.JSONDecodeError:
            GAUGES["errors"] += 1
            continue
        except ValidationError:
            GAUGES["errors"] += 1
            log.exception("rejected order %d", i)   # formatted, not kept
            continue
        try:
            decimal.Decimal("not-a-price-%d" % i)
        except decimal.InvalidOperation:
            pass
        try:
            RESULTS["missing-%d" % i]
        except KeyError:
            pass
        orders.append(o)
        ORDERS[o.order_id] = o
        LIVE_ORDERS[o.order_id] = o
        RESULTS["order-%d" % i] = o.total
        RECENT_REQUESTS.append((i, "POST", "/api/v1/orders"))
        touch_session("sid-%d" % (i % 700))
        BUS.publish("new", o)
        o.status = Status.PAID if i % 7 else Status.CANCELLED
        BUS.publish(o.status.value, o)
    trim(ORDERS, ORDERS_MAX)
    trim(RESULTS, RESULTS_MAX)
    store(orders)
    for k in range(AUDIT_PER_ROUND):
        audit_log.info("audit %d.%d", r, k)
    futures = [POOL.submit(http_roundtrip, base + k) for k in range(40)]
    futures += [POOL.submit(url_work, base + k) for k in range(40)]
    for f in concurrent.futures.as_completed(futures, timeout=60):
        f.result()
    for k in range(100):
        JOBS.put(base + k)
    JOBS.join()
    catalog_xml(30)
    asyncio.run(async_round(base, 40))
    log.info("round %d: %d orders, %s", r, len(orders), datetime.datetime.now().isoformat())
    LOG_QUEUE.join()       # the listener has handled every record
    AUDIT_MEMORY.flush()
    del orders, futures
    return r


# ---------------------------------------------------------------------------
# The diagnostic: container sizes at the first look and at the end.

CONTAINERS = (dict, list, set, collections.deque)
MODULE = type(sys)


def reachable(parents=None):
    """{id: (len, type name)} of the containers reachable from the modules
    (gc.get_referents, tracked or not); parents, when given, gets the id
    of one referrer of every object reached."""
    seen = set()
    out = {}
    stack = list(sys.modules.values())
    seen.update(id(m) for m in stack)
    while stack:
        o = stack.pop()
        if isinstance(o, CONTAINERS):
            out[id(o)] = (len(o), type_name(type(o)))
        # A module: its dict only.  gc.get_referents() of a module visits
        # its C state too, and _asyncio's (3.12) visits a free list of
        # freed FutureIter objects (CPython gh-122695): a reference to
        # one corrupts the heap.
        refs = [vars(o)] if isinstance(o, MODULE) else gc.get_referents(o)
        for r in refs:
            if id(r) not in seen:
                seen.add(id(r))
                if parents is not None:
                    parents[id(r)] = o
                stack.append(r)
    return out


def describe(obj, parents, depth=8):
    """Where obj hangs, from a module down: 'module m -> ['key'] -> ...'."""
    parts = []
    while depth > 0:
        parent = parents.get(id(obj))
        if parent is None:
            break
        if isinstance(parent, dict):
            key = next((k for k, v in parent.items() if v is obj), None)
            parts.append("[%r]" % (key,) if key is not None else "(dict)")
        else:
            parts.append(type_name(type(parent)))
        obj = parent
        depth -= 1
    if type(obj).__name__ == "module":
        parts.append("module " + obj.__name__)
    return " <- ".join(parts)


def grown(before, at_least=20):
    """The containers there at the first look that hold at_least items
    more now."""
    parents = {}
    now = reachable(parents)
    objs = {}
    for o in parents.values():
        if id(o) in now and id(o) in before:
            objs[id(o)] = o
    rows = []
    for i, (n, t) in now.items():
        b = before.get(i)
        if b is not None and b[1] == t and n - b[0] >= at_least and i in objs:
            rows.append({"address": hex(i), "type": t, "first": b[0], "now": n,
                         "where": describe(objs[i], parents)})
    del objs, parents, now
    return sorted(rows, key=lambda r: r["first"] - r["now"])


def main():
    threads = start_threads()
    for _ in range(WARMUP_ROUNDS):
        one_round()
    first = reachable()
    protocol.send({"ready": True, "pid": os.getpid(),
                   "python_version": platform.python_version(),
                   "executable": sys.executable, "scenario": "clean", "looks": 2,
                   "threads": threading.active_count()})
    while True:
        data = protocol.request()  # blocks here, GIL released
        req = json.loads(data) if data.strip() else {"op": "oracle"}
        del data
        if req.get("op") == "work":
            protocol.send({"worked": one_round(), "rounds": ROUND[0]})
        elif req.get("op") == "oracle":
            growth = grown(first)
            protocol.send({"scenario": "clean", "python_version": platform.python_version(),
                           "expected": [], "planted": [], "controls": [],
                           "info": {"grown": growth, "rounds": ROUND[0],
                                    "threads": [t.name for t in threading.enumerate()],
                                    "gc_enabled": gc.isenabled(),
                                    "gc_threshold": gc.get_threshold(),
                                    "sizes": {"SESSIONS": len(SESSIONS),
                                              "RESULTS": len(RESULTS),
                                              "ORDERS": len(ORDERS),
                                              "LIVE_ORDERS": len(LIVE_ORDERS),
                                              "PROCESSED": len(PROCESSED),
                                              "RING": len(RING.lines)}}})
            break
        else:
            protocol.send({"error": "unknown request %r" % (req,)})
    STOP.set()
    JOBS.put(None)
    LISTENER.stop()
    for t in threads:
        t.join(10)
    POOL.shutdown(wait=True)


if __name__ == "__main__":
    main()
