"""Failure drills on the loopback cluster (`make drill`, deploy/cluster/, docs/scaling.md).

Under a steady learner load (Locust, bench/locustfile.py: signed-in students and visitors) and a live
mock (writer threads: learners start a test, answer question by question, submit, enroll, and read
each write straight back), one fault at a time, on real processes:

  node-kill     kill -9 one app node (master and workers); nginx routes around it, the supervisor
                restarts it, it rejoins
  node-hang     SIGSTOP one app node for 25 s: nginx times it out and stops sending to it; only
                idempotent requests are retried on the other node
  cache-redis   kill -9 the cache Redis for 20 s: no 5xx
  broker-redis  restart the state/broker Redis: Celery resumes, no message lost or sent twice
  lag           pause WAL replay on the standby for 20 s: the router moves reads to the primary and
                every learner reads their own writes
  failover      stop the primary (immediate), promote the standby, point PgBouncer at it: reads go on,
                writes come back (timed), nothing acknowledged is lost; then a new standby is cloned
  scaling       server CPU-ms per request with 1 and with 2 app nodes at the same load
  steady        (only when named) no fault for DRILL_STEADY_SECONDS (120): the live mock alone

Counts come from nginx's access log (every request a client saw) and from the writers' own ledger,
compared with PostgreSQL at the end. Results: bench/results/<time>-drill.json and, for a run of all
drills, docs/scaling.md (the part between the DRILL markers). `python bench/drill.py [drill ...]`; DRILL_LEARNERS (300),
DRILL_WRITERS (6) set the load.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
CLUSTER_DIR = Path(os.environ.get("CLUSTER_DIR", "/tmp/cerebrum-cluster"))
HTTP_PORT = int(os.environ.get("CLUSTER_HTTP_PORT", "58080"))
APP_PORT_BASE = int(os.environ.get("CLUSTER_APP_PORT_BASE", "58001"))
BASE = f"http://127.0.0.1:{HTTP_PORT}"
LEARNERS = int(os.environ.get("DRILL_LEARNERS", "300"))
WRITERS = int(os.environ.get("DRILL_WRITERS", "6"))
DRILLS = ["scaling", "node-kill", "node-hang", "cache-redis", "broker-redis", "lag", "failover"]
EXTRA_DRILLS = ["steady"]  # not part of a full run: DRILLS=steady
STEADY_SECONDS = int(os.environ.get("DRILL_STEADY_SECONDS", "120"))
ACCESS_LINE = re.compile(
    r'^\S+ \[(?P<at>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+)[^"]*" (?P<status>\d{3}) .*cache=(?P<cache>\S*)'
)
DOC = ROOT / "docs" / "scaling.md"
PIN_COOKIE = "cb_rw"  # cerebrum/db_router.py: the learner's read-your-writes pin


# --- the cluster ------------------------------------------------------------------------------------


def cluster_env() -> dict[str, str]:
    """The environment every cluster process runs with (deploy/cluster/up.sh writes cluster.env)."""
    out = subprocess.run(
        ["bash", "-c", f"source {CLUSTER_DIR / 'cluster.env'} && env -0"], capture_output=True, check=True
    ).stdout
    return dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)


def lib(script: str) -> str:
    """Runs `script` with deploy/cluster/lib.sh's functions (start_cache_redis, make_standby, ...)."""
    command = f"set -e; source {ROOT / 'deploy/cluster/lib.sh'}; {script}"
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=True, timeout=300).stdout


def psql(port: int, query: str, db: str = "cerebrum") -> str:
    command = ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-tAqc", query, db]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=30).stdout.strip()


def primary_port() -> int:
    return int(lib("primary_port"))


def standby_port() -> int:
    return int(lib("standby_port"))


def node_processes(node: int) -> list[int]:
    """The gunicorn master of app node `node` and its workers."""
    master = int((CLUSTER_DIR / "run" / f"app-{node}.pid").read_text())
    return [master, *children(master)]


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def wait(condition, seconds: float) -> float | None:
    """Seconds until `condition()` held, or None after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return round(time.monotonic() - started, 1)
        time.sleep(0.2)
    return None


def access_log_window(since: datetime, until: datetime) -> dict:
    """Requests nginx answered in [since, until): by status class, 5xx by method, app-served count.
    nginx logs whole seconds: the window is widened to them."""
    counts: Counter = Counter()
    since, until = since.replace(microsecond=0), until.replace(microsecond=0) + timedelta(seconds=1)
    for line in (CLUSTER_DIR / "nginx" / "access.log").read_text(errors="replace").splitlines():
        match = ACCESS_LINE.match(line)
        if not match:
            continue
        at = datetime.fromisoformat(match["at"])
        if not since <= at < until:
            continue
        status = int(match["status"])
        counts["requests"] += 1
        counts[f"{status // 100}xx"] += 1
        if status >= 500:
            counts[f"{status} {match['method']}"] += 1
        if match["cache"] != "HIT" and not match["path"].startswith("/static/"):
            counts["served_by_app"] += 1
    return dict(counts)


# --- the live mock: writers with a ledger of what the server acknowledged ---------------------------


class Ledger:
    """Every write the server acknowledged, every failed request, and read-your-writes misses."""

    def __init__(self) -> None:
        self.answers: dict[tuple[int, int], int] = {}  # (attempt, question) -> acknowledged seq
        self.submitted: set[int] = set()
        self.enrolled: set[tuple[int, str]] = set()  # (learner index, course slug)
        self.failures: list[tuple[float, str, str]] = []  # (unix time, what, status or error)
        self.ryw_misses: list[tuple[float, str]] = []
        self.ryw_miss_details: list[dict] = []  # what each miss sent, what the server answered and showed
        self.resumed = 0  # sittings whose start handed back a running attempt with answers stored
        self.acks: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def fail(self, what: str, outcome: str) -> None:
        with self.lock:
            self.failures.append((time.time(), what, outcome))

    def ack(self, what: str) -> None:
        with self.lock:
            self.acks.append((time.time(), what))

    def window(self, since: float, until: float) -> dict:
        with self.lock:
            failures = Counter(f"{what} {outcome}" for at, what, outcome in self.failures if since <= at < until)
            acks = Counter(what for at, what in self.acks if since <= at < until)
            misses = Counter(what for at, what in self.ryw_misses if since <= at < until)
        return {"acknowledged": dict(acks), "failed": dict(failures), "read_your_writes_misses": dict(misses)}


def writer(learners: list[dict], data: dict, ledger: Ledger, stop: threading.Event) -> None:
    while not stop.is_set():
        learner = random.choice(learners)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {learner['token']}"
        try:
            sit_one_test(session, random.choice(data["free_tests"]), ledger, stop)
            if random.random() < 0.3:
                enroll(session, learner, random.choice(data["courses"]), ledger)
        except requests.RequestException as error:
            ledger.fail("request", type(error).__name__)
            time.sleep(0.5)


def _post(session: requests.Session, url: str, what: str, ledger: Ledger, **kwargs) -> requests.Response | None:
    try:
        response = session.post(url, timeout=20, **kwargs)
    except requests.RequestException as error:
        ledger.fail(what, type(error).__name__)
        return None
    if response.status_code >= 300:
        ledger.fail(what, str(response.status_code))
        return None
    return response


def sit_one_test(session: requests.Session, slug: str, ledger: Ledger, stop: threading.Event) -> None:
    started = _post(session, f"{BASE}/api/v1/tests/{slug}/attempts", "start", ledger)
    if started is None:
        time.sleep(0.5)
        return
    attempt = started.json()
    ledger.ack("start")
    # start hands back a learner's running attempt (one an earlier run, a failed submit or a stopped writer
    # left) with what it stores: like the exam screen (docs/exam.md), continue the seq above its last_seq.
    # Restarting at 1 sent seqs the server already held, which it rightly keeps out as retries; read back,
    # they showed the stored answer: the "read-your-writes misses" of issue 20.
    resumed_at_seq = attempt["last_seq"]
    if resumed_at_seq:
        with ledger.lock:
            ledger.resumed += 1
    questions = [item["id"] for item in attempt["questions"]][:5]
    for seq, question in enumerate(questions, start=resumed_at_seq + 1):
        if stop.is_set():
            return
        option = random.choice("ABCD")
        body = {"answers": [{"question_id": question, "option": option, "seq": seq}]}
        saved = _post(session, f"{BASE}/api/v1/attempts/{attempt['id']}/answers", "answer", ledger, json=body)
        if saved and saved.json()["saved"] != 1:  # kept out as older than what is stored: not acknowledged
            ledger.fail("answer", "not stored")
        elif saved:
            with ledger.lock:
                ledger.answers[(attempt["id"], question)] = seq
            ledger.ack("answer")
            pinned = PIN_COOKIE in session.cookies
            state = session.get(f"{BASE}/api/v1/attempts/{attempt['id']}", timeout=20)
            shown = state.json()["answers"].get(str(question), {}) if state.status_code == 200 else {}
            if state.status_code == 200 and shown.get("option") != option:
                ledger.ryw_misses.append((time.time(), "answer"))
                ledger.ryw_miss_details.append(
                    {
                        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                        "attempt": attempt["id"],
                        "question": question,
                        "sent": {"option": option, "seq": seq},
                        "answered": saved.json(),
                        "read": shown,
                        "resumed_at_seq": resumed_at_seq,
                        "pin_cookie_sent": pinned,
                        "read_sql_queries": state.headers.get("X-SQL-Queries"),
                    }
                )
        time.sleep(random.uniform(0.5, 1.5))
    if _post(session, f"{BASE}/api/v1/attempts/{attempt['id']}/submit", "submit", ledger):
        ledger.submitted.add(attempt["id"])
        ledger.ack("submit")
        result = session.get(f"{BASE}/api/v1/attempts/{attempt['id']}/result", timeout=20)
        if result.status_code != 200:
            ledger.ryw_misses.append((time.time(), f"submit {result.status_code}"))


def enroll(session: requests.Session, learner: dict, course: str, ledger: Ledger) -> None:
    if _post(session, f"{BASE}/api/v1/enrollments", "enroll", ledger, json={"course": course}):
        ledger.enrolled.add((learner["index"], course))
        ledger.ack("enroll")
        mine = session.get(f"{BASE}/api/v1/enrollments", timeout=20)
        if mine.status_code == 200 and course not in {row["course"]["slug"] for row in mine.json()["results"]}:
            ledger.ryw_misses.append((time.time(), "enroll"))


def verify_ledger(ledger: Ledger, learners: list[dict]) -> dict:
    """Acknowledged writes compared with what the primary stores."""
    port = primary_port()
    answers = dict(ledger.answers)
    attempts = sorted({attempt for attempt, _ in answers} | ledger.submitted) or [0]
    rows = psql(
        port,
        f"SELECT attempt_id, question_id, seq FROM attempt_answers WHERE attempt_id IN ({','.join(map(str, attempts))}) AND option <> ''",
    )
    stored = {(int(a), int(q)): int(s) for a, q, s in (line.split("|") for line in rows.splitlines() if line)}
    lost_answers = [key for key, seq in answers.items() if stored.get(key, 0) < seq]
    submitted = set(ledger.submitted) or {0}
    stored_submitted = psql(
        port,
        f"SELECT count(*) FROM test_attempts WHERE id IN ({','.join(map(str, submitted))}) AND status <> 'IN_PROGRESS'",
    )
    by_index = {learner["index"]: learner["id"] for learner in learners}
    pairs = [f"({by_index[index]}, '{slug}')" for index, slug in ledger.enrolled] or ["(0, '')"]
    stored_enrolled = psql(
        port,
        f"SELECT count(*) FROM enrollments e JOIN courses c ON c.id = e.course_id WHERE (e.user_id, c.slug) IN ({','.join(pairs)})",
    )
    return {
        "answers_acknowledged": len(answers),
        "answers_lost": len(lost_answers),
        "submits_acknowledged": len(ledger.submitted),
        "submits_lost": len(ledger.submitted) - int(stored_submitted),
        "enrollments_acknowledged": len(ledger.enrolled),
        "enrollments_lost": len(ledger.enrolled) - int(stored_enrolled),
        "attempts_resumed": ledger.resumed,
        "read_your_writes_misses": len(ledger.ryw_misses),
        "read_your_writes_misses_by_kind": dict(Counter(what for _, what in ledger.ryw_misses)),
        "read_your_writes_miss_details": ledger.ryw_miss_details,
    }


# --- the drills ----------------------------------------------------------------------------------------


def observe(ledger: Ledger, fault, *, before: float = 10, after: float = 15) -> dict:
    """Steady `before` seconds, then `fault()` (returns its own findings), then `after` seconds."""
    time.sleep(before)
    since, since_dt = time.time(), datetime.now(UTC)
    found = fault()
    time.sleep(after)
    until, until_dt = time.time(), datetime.now(UTC)
    return {
        **found,
        "window": [since_dt.isoformat(timespec="seconds"), until_dt.isoformat(timespec="seconds")],
        "window_seconds": round(until - since),
        "nginx": access_log_window(since_dt, until_dt),
        "live_mock": ledger.window(since, until),
    }


def drill_node_kill() -> dict:
    node, port = 1, APP_PORT_BASE
    old = node_processes(node)
    for pid in old:
        os.kill(pid, signal.SIGKILL)
    started = time.monotonic()
    back = wait(lambda: healthy(port) and node_processes(node)[0] not in old, 120)
    return {
        "killed_pids": len(old),
        "node_back_after_seconds": back,
        "rejoined": wait(lambda: healthy(port), 5) is not None,
        "since_kill": round(time.monotonic() - started, 1),
    }


def drill_node_hang() -> dict:
    pids = node_processes(2)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    time.sleep(25)
    for pid in pids:
        os.kill(pid, signal.SIGCONT)
    timeouts = sum(
        "upstream timed out" in line
        for line in (CLUSTER_DIR / "nginx" / "error.log").read_text(errors="replace").splitlines()[-2000:]
    )
    return {"stopped_seconds": 25, "stopped_pids": len(pids), "nginx_upstream_timeouts_logged": timeouts}


def drill_cache_redis() -> dict:
    pid = int((CLUSTER_DIR / "redis-cache" / "redis.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    time.sleep(20)
    lib("start_cache_redis")
    return {"cache_redis_down_seconds": 20}


def drill_broker_redis() -> dict:
    """Messages (the outbox: every submit sends its result by email) enqueued around a broker restart:
    when sends resume, whether every one is sent, and whether any was sent twice."""
    since = datetime.now(UTC).isoformat()
    subprocess.run(["redis-cli", "-p", lib("echo $STATE_REDIS_PORT").strip(), "shutdown"], capture_output=True)
    time.sleep(10)
    lib("start_state_redis")
    restarted, restarted_at = time.monotonic(), datetime.now(UTC).isoformat()
    port = primary_port()
    where = f"created_at >= '{since}' AND channel = 'EMAIL'"
    resumed = wait(
        lambda: psql(port, f"SELECT count(*) FROM communication_logs WHERE {where} AND sent_at > '{restarted_at}'")
        != "0",
        90,
    )
    time.sleep(5)
    # Rows whose publish failed while the broker was down wait for outbox_relay (COMMUNICATIONS_RELAY_AFTER_SECONDS).
    drained = wait(
        lambda: psql(port, f"SELECT count(*) FROM communication_logs WHERE {where} AND status = 'QUEUED'") == "0", 150
    )
    summary = psql(
        port,
        "SELECT count(*), count(*) FILTER (WHERE status IN ('SENT', 'DELIVERED', 'READ')), "
        f"count(*) FILTER (WHERE attempts > 1), coalesce(max(attempts), 0) FROM communication_logs WHERE {where}",
    )
    total, sent, retried, most = (int(value) for value in summary.split("|"))
    return {
        "broker_down_seconds": 10,
        "sends_resumed_after_seconds": resumed,
        "all_sent_after_seconds": None if drained is None else round(time.monotonic() - restarted, 1),
        "emails_enqueued": total,
        "emails_sent": sent,
        "emails_sent_more_than_once": retried,
        "most_send_attempts": most,
    }


def drill_lag() -> dict:
    port = standby_port()
    before = int(psql(port, "SELECT sum(xact_commit) FROM pg_stat_database"))
    psql(port, "SELECT pg_wal_replay_pause()")
    time.sleep(3)
    lag = float(
        psql(port, "SELECT coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0)")
    )
    mid = int(psql(port, "SELECT sum(xact_commit) FROM pg_stat_database"))
    time.sleep(17)
    paused_end = int(psql(port, "SELECT sum(xact_commit) FROM pg_stat_database"))
    lag_end = float(
        psql(port, "SELECT coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0)")
    )
    psql(port, "SELECT pg_wal_replay_resume()")
    return {
        "replay_paused_seconds": 20,
        "lag_after_3s": round(lag, 1),
        "lag_at_resume": round(lag_end, 1),
        "standby_transactions_first_3s": mid - before,
        "standby_transactions_next_17s": paused_end - mid,
    }


def drill_failover(ledger: Ledger) -> dict:
    old, new = primary_port(), standby_port()
    stopped_at = time.time()
    lib(f'as_postgres "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/pg/{old}" -m immediate stop')
    psql(new, "SELECT pg_promote(wait => true)", db="postgres")
    promoted = round(time.time() - stopped_at, 1)
    (CLUSTER_DIR / "pg" / "primary_port").write_text(f"{new}\n")
    lib(f'start_bouncer primary "$BOUNCER_PRIMARY_PORT" {new}')
    repointed = round(time.time() - stopped_at, 1)
    first_write = wait(
        lambda: any(at > stopped_at and what in {"answer", "submit", "start"} for at, what in list(ledger.acks)), 60
    )
    writes_back = round(time.time() - stopped_at, 1) if first_write is not None else None
    return {
        "old_primary": old,
        "new_primary": new,
        "promoted_after_seconds": promoted,
        "pgbouncer_repointed_after_seconds": repointed,
        "writes_back_after_seconds": writes_back,
    }


def heal_standby() -> float:
    """A new standby of the promoted primary on the old primary's port; the replica PgBouncer moves to it."""
    started = time.monotonic()
    lib('make_standby $(standby_port) && start_bouncer replica "$BOUNCER_REPLICA_PORT" $(standby_port)')
    return round(time.monotonic() - started, 1)


def service_pids() -> dict[str, list[int]]:
    """The processes of each tier besides the app nodes: PostgreSQL (both), PgBouncer, Redis (both)."""
    tiers: dict[str, list[int]] = {"postgresql": [], "pgbouncer": [], "redis": []}
    for pidfile in (CLUSTER_DIR / "pg").glob("*/postmaster.pid"):
        postmaster = int(pidfile.read_text().split()[0])
        tiers["postgresql"] += [postmaster, *children(postmaster)]
    for tier, pattern in (("pgbouncer", "pgbouncer/*.pid"), ("redis", "redis-*/redis.pid")):
        tiers[tier] += [int(path.read_text().split()[0]) for path in CLUSTER_DIR.glob(pattern)]
    return tiers


def drill_steady() -> dict:
    """No fault: STEADY_SECONDS of the load alone (the live mock's read-your-writes with a current replica)."""
    time.sleep(STEADY_SECONDS)
    return {"steady_seconds": STEADY_SECONDS}


def drill_scaling() -> dict:
    """CPU-ms per app-served request with node 2 out of nginx, then with both nodes, at the same load;
    and the CPU-ms PostgreSQL, PgBouncer and Redis spent per such request meanwhile."""
    conf = CLUSTER_DIR / "nginx" / "nginx.conf"
    original = conf.read_text()
    node2 = f"server 127.0.0.1:{APP_PORT_BASE + 1} "
    try:
        return _cpu_per_request(conf, original.replace(node2, node2 + "down ", 1), original)
    finally:
        conf.write_text(original)
        subprocess.run(["nginx", "-s", "reload", "-c", str(conf), "-p", str(conf.parent)], check=True)


def _cpu_per_request(conf: Path, one_node: str, two_nodes: str) -> dict:
    results = {}
    for label, text in (("1 node", one_node), ("2 nodes", two_nodes)):
        conf.write_text(text)
        subprocess.run(
            ["nginx", "-s", "reload", "-c", str(conf), "-p", str(conf.parent)], check=True, capture_output=True
        )
        time.sleep(10)
        tiers = {"app": [pid for node in (1, 2) for pid in node_processes(node)], **service_pids()}
        before, since = {tier: cpu_seconds(pids) for tier, pids in tiers.items()}, datetime.now(UTC)
        time.sleep(45)
        after, until = {tier: cpu_seconds(pids) for tier, pids in tiers.items()}, datetime.now(UTC)
        served = access_log_window(since, until).get("served_by_app", 0)
        cpu = {tier: after[tier] - before[tier] for tier in tiers}
        results[label] = {
            "app_requests": served,
            "requests_per_second": round(served / 45, 1),
            "cpu_seconds": round(cpu["app"], 1),
            "cpu_ms_per_request": round(1000 * cpu["app"] / max(served, 1), 2),
            **{
                f"{tier}_cpu_ms_per_request": round(1000 * cpu[tier] / max(served, 1), 2)
                for tier in tiers
                if tier != "app"
            },
        }
    return results


# --- the run -------------------------------------------------------------------------------------------


def prepare(out: Path) -> None:
    """Under the cluster's environment: drill learners (bench data, like bench/prepare.py's sessions),
    a JWT for each, the free tests and courses."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User
    from courses.models import Course, PracticeTest

    password = make_password(None)
    User.objects.bulk_create(
        [
            User(email=f"drill-{index}@drill.cerebrum.test", name=f"Drill Learner {index}", password=password)
            for index in range(WRITERS * 20)
        ],
        ignore_conflicts=True,
    )
    users = User.objects.filter(email__endswith="@drill.cerebrum.test").order_by("pk")
    learners = [
        {"index": i, "id": user.pk, "token": str(RefreshToken.for_user(user).access_token)}
        for i, user in enumerate(users)
    ]
    tests = PracticeTest.objects.filter(is_published=True, is_free=True, scheduled_start__isnull=True, course=None)
    data = {
        "learners": learners,
        "free_tests": list(tests.values_list("slug", flat=True)),
        "courses": list(Course.objects.filter(is_active=True).values_list("slug", flat=True)),
    }
    out.write_text(json.dumps(data))


SIZES = (10_000, 50_000, 100_000)
NODE_VCPUS = 4
TARGET_UTILISATION = 0.6  # headroom for the 10:00 start of a live mock and for losing one node


def sizing(scaling: dict, learners: int) -> list[dict]:
    """Each tier's vCPUs for SIZES learners, from the measured CPU-ms per app request (2 nodes) and the
    measured app requests per learner per second of this load; vCPU = learners x req/s x ms / 1000 / 0.6."""
    measured = scaling["2 nodes"]
    per_learner = measured["requests_per_second"] / learners
    rows = []
    for size in SIZES:
        rate = size * per_learner

        def vcpus(ms: float, rate: float = rate) -> float:
            return round(rate * ms / 1000 / TARGET_UTILISATION, 1)

        app = vcpus(measured["cpu_ms_per_request"])
        rows.append(
            {
                "learners": size,
                "app_requests_per_second": round(rate),
                "app_vcpus": app,
                "app_nodes": max(2, -(-int(app * 10) // (NODE_VCPUS * 10)) + 1),  # N+1: survives a node loss
                "postgresql_vcpus": vcpus(measured.get("postgresql_cpu_ms_per_request", 0)),
                "pgbouncer_vcpus": vcpus(measured.get("pgbouncer_cpu_ms_per_request", 0)),
                "redis_vcpus": vcpus(measured.get("redis_cpu_ms_per_request", 0)),
            }
        )
    return rows


def write_doc(results: dict, result_file: Path) -> None:
    """The measured part of docs/scaling.md, between its DRILL markers."""
    lines = [
        f"Run `{results['command']}` at {results['started']} UTC: {results['learners']} Locust learners "
        f"(signed-in students and visitors, think time 5-15 s) and {results['writers']} live-mock writers; "
        f"load average at start {results['load'][0]:.1f} on {os.cpu_count()} cores (other work on the box). "
        f"Raw: `{result_file.relative_to(ROOT)}`.",
        "",
        "| drill | what happened | requests in the window (nginx) | live mock in the window |",
        "|---|---|---|---|",
    ]
    for name, found in results["drills"].items():
        if name == "scaling":
            continue
        nginx = found.get("nginx", {})
        mock = found.get("live_mock", {})
        details = ", ".join(
            f"{k} {v}" for k, v in found.items() if k not in {"nginx", "live_mock", "window_seconds", "window"}
        )
        errors = ", ".join(f"{k}: {v}" for k, v in nginx.items() if k[0] == "5" and " " in k) or "no 5xx"
        failed = ", ".join(f"{k}: {v}" for k, v in mock.get("failed", {}).items()) or "none failed"
        acked = sum(mock.get("acknowledged", {}).values())
        misses = ", ".join(f"{k} {v}" for k, v in mock.get("read_your_writes_misses", {}).items()) or "none"
        lines.append(
            f"| {name} | {details} | {nginx.get('requests', 0)} in {found.get('window_seconds')} s; {errors} | "
            f"{acked} writes acknowledged; {failed}; read-your-writes misses: {misses} |"
        )
    ledger = results["ledger"]
    lines += [
        "",
        "Acknowledged vs stored (checked on the primary after the run): "
        + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in ledger.items() if k != "read_your_writes_miss_details")
        + ".",
    ]
    if "scaling" in results["drills"]:
        lines += [
            "",
            "| app nodes | app requests/s | app CPU-ms per request | PostgreSQL | PgBouncer | Redis |",
            "|---|---|---|---|---|---|",
        ]
        for label, row in results["drills"]["scaling"].items():
            lines.append(
                f"| {label} | {row['requests_per_second']} | {row['cpu_ms_per_request']} | "
                f"{row.get('postgresql_cpu_ms_per_request', '')} | {row.get('pgbouncer_cpu_ms_per_request', '')} | "
                f"{row.get('redis_cpu_ms_per_request', '')} |"
            )
        lines += [
            "",
            "Sizing derived from the measured per-request cost above (2 nodes), at this mix's measured "
            f"{results['drills']['scaling']['2 nodes']['requests_per_second'] / results['learners']:.3f} app "
            f"requests per learner per second, {int(TARGET_UTILISATION * 100)} % target CPU, {NODE_VCPUS}-vCPU "
            "app nodes, one node spare:",
            "",
            "| learners | app requests/s | app vCPUs | app nodes | PostgreSQL vCPUs | PgBouncer vCPUs | Redis vCPUs |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in sizing(results["drills"]["scaling"], results["learners"]):
            lines.append(
                f"| {row['learners']:,} | {row['app_requests_per_second']:,} | {row['app_vcpus']} | {row['app_nodes']} | "
                f"{row['postgresql_vcpus']} | {row['pgbouncer_vcpus']} | {row['redis_vcpus']} |"
            )
    text = DOC.read_text()
    begin, end = "<!-- DRILL:BEGIN (bench/drill.py writes this part) -->", "<!-- DRILL:END -->"
    head, rest = text.split(begin, 1)
    DOC.write_text(head + begin + "\n" + "\n".join(lines) + "\n" + end + rest.split(end, 1)[1])


def main(selected: list[str]) -> None:
    env = {**os.environ, **cluster_env()}
    work = CLUSTER_DIR / "drill"
    work.mkdir(exist_ok=True)
    subprocess.run([sys.executable, __file__, "--prepare", str(work / "writers.json")], env=env, check=True, cwd=ROOT)
    subprocess.run(
        [sys.executable, "bench/prepare.py", "sessions", str(work / "locust.json")],
        cwd=ROOT,
        check=True,
        env={**env, "BENCH_SESSIONS": str(LEARNERS)},
        capture_output=True,
    )
    data = json.loads((work / "writers.json").read_text())
    print(
        f"drill: {LEARNERS} learners (locust) + {WRITERS} live-mock writers; drills: {' '.join(selected)}", flush=True
    )
    locust = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/locust"),
            "-f",
            "bench/locustfile.py",
            "--headless",
            "--host",
            BASE,
            "-u",
            str(LEARNERS),
            "-r",
            "20",
            "--run-time",
            "3600s",
            "--only-summary",
            "--loglevel",
            "WARNING",
            "Student",
            "Visitor",
        ],
        cwd=ROOT,
        env={**os.environ, "BENCH_DATA": str(work / "locust.json"), "BENCH_THINK": "10"},
        stdout=(work / "locust.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    ledger, stop = Ledger(), threading.Event()
    # Each writer has learners of its own: two writers starting the same test for one learner would share
    # the attempt (start is idempotent) and each see the other's answers.
    threads = [
        threading.Thread(target=writer, args=(data["learners"][index::WRITERS], data, ledger, stop), daemon=True)
        for index in range(WRITERS)
    ]
    results: dict = {
        "command": "make drill" + (f" DRILLS='{' '.join(selected)}'" if selected != DRILLS else ""),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "learners": LEARNERS,
        "writers": WRITERS,
        "load": os.getloadavg(),
        "drills": {},
    }
    try:
        time.sleep(LEARNERS / 20 + 5)  # ramp-up
        for thread in threads:
            thread.start()
        for name in selected:
            print(f"drill [{datetime.now(UTC):%H:%M:%S}] {name}", flush=True)
            if name == "scaling":
                results["drills"][name] = drill_scaling()
            elif name == "failover":
                results["drills"][name] = observe(ledger, lambda: drill_failover(ledger), after=20)
                results["drills"][name]["new_standby_cloned_seconds"] = heal_standby()
            else:
                results["drills"][name] = observe(ledger, globals()[f"drill_{name.replace('-', '_')}"])
            print(json.dumps(results["drills"][name]), flush=True)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        locust.send_signal(signal.SIGINT)
        try:
            locust.wait(timeout=30)
        except subprocess.TimeoutExpired:
            locust.kill()
    results["ledger"] = verify_ledger(ledger, data["learners"])
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(json.dumps(results["ledger"]), flush=True)
    out = ROOT / "bench" / "results" / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-drill.json"
    out.write_text(json.dumps(results, indent=1))
    if selected == DRILLS:  # a partial run (DRILLS=...) leaves the documented full run alone
        write_doc(results, out)
    print(f"drill: results in {out.relative_to(ROOT)}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--prepare"]:
        prepare(Path(sys.argv[2]))
    else:
        unknown = [name for name in sys.argv[1:] if name not in DRILLS + EXTRA_DRILLS]
        if unknown:
            sys.exit(f"unknown drill(s) {unknown}; choose from {DRILLS + EXTRA_DRILLS}")
        main(sys.argv[1:] or DRILLS)
