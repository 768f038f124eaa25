"""`make bench`: Halqa beside its baselines, one open-loop generator, one table.

    .venv/bin/python bench/run.py [--quick] [--targets halqa,halqa-pg,channels,bare,raw,scaleout]
                                  [--workloads 50x20,10x50] [--json results.json]

Each target is started here as a subprocess on a free loopback port (never 8000), pinned to one
core with `taskset` where the machine has two or more, while this process (the generator, see
bench/loadgen.py) and the helpers (a private Redis, nginx) run on another core. For each workload
(C circles x M members, one sender per circle) it measures:

- memory per idle socket: the server's RSS with every socket joined and idle, minus its RSS with
  none (after a warm-up), divided by the number of sockets (first workload only);
- a light load of 10 messages/s: p50 and p99 latency;
- a rate ladder (x2 per step from the light load, then bisection) up to the highest rate whose p99
  stays <= 100 ms with nothing lost, doubled, misrouted or refused: "deliveries/s within the SLO";
- server CPU per delivery: utime+stime of the server process(es) from /proc/<pid>/stat over the
  passing steps, divided by their deliveries;
- with Redis, Redis commands per message (INFO total_commands_processed, on a private
  redis-server, so nothing else is counted).

A row is marked generator-limited when, at its best or first failing step, the generator used
>= 90 % of its core or woke up > 10 ms late (p99): then the server could do more than shown.

Targets: halqa (embedded default: SQLite, in-memory layer, as `make run`), halqa-pg (Redis core
layer + PostgreSQL database `halqa_bench`, created and dropped here), halqa-pubsub (the same with
CHANNEL_LAYER=pubsub; not in the default set), channels (b: the Channels tutorial with the Redis
layer), bare (d: bench/baseline_bare_asgi.py on daphne), raw (c: bench/baseline_raw_ws.py),
scaleout (two Halqa processes with Redis + PostgreSQL behind nginx; one process behind the same
nginx for comparison in the full run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from loadgen import (  # noqa: E402  (bench/ is not a package)
    GENERATOR_CPU_LIMIT,
    SLO_P99_MS,
    Adapter,
    LoadGen,
    StepResult,
    echo_adapter,
    halqa_adapter,
    install_fast_loop,
)

HOST = "127.0.0.1"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = "halqa_bench"
LIGHT_RATE = 10.0  # messages per second, all circles together
PY = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

ALL_TARGETS = ["halqa", "halqa-pg", "halqa-pubsub", "channels", "bare", "raw", "scaleout"]
DEFAULT_TARGETS = ["halqa", "halqa-pg", "channels", "bare", "raw", "scaleout"]
LABELS = {
    "halqa": "Halqa, `make run` default (SQLite, in-memory layer)",
    "halqa-pg": "Halqa, Redis core layer + PostgreSQL",
    "halqa-pubsub": "Halqa, Redis pub/sub layer + PostgreSQL",
    "channels": "(b) Channels tutorial chat (daphne, RedisChannelLayer, no database)",
    "bare": "(d) bare ASGI app on daphne, in-process fan-out, no channel layer",
    "raw": "(c) raw `websockets` server with `broadcast()`",
}


def log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


# --- Plan -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    quick: bool
    workloads: list[tuple[int, int]]
    step_seconds: float
    light_seconds: float
    factor: float
    refine: int
    max_drain: float
    idle: float
    max_rate: float  # messages per second: the ladder stops there
    scaleout_backends: list[int]
    settle: float  # seconds of rest after a warm-up, the joins, an idle measurement

    @classmethod
    def build(cls, args: argparse.Namespace) -> Plan:
        workloads = [tuple(int(x) for x in w.lower().split("x")) for w in args.workloads.split(",")]
        scaleout = [int(n) for n in args.scaleout_processes.split(",")]
        if args.quick:
            return cls(quick=True, workloads=workloads, step_seconds=2.0, light_seconds=3.0,
                       factor=4.0, refine=0, max_drain=3.0, idle=0.8, max_rate=args.max_rate,
                       scaleout_backends=scaleout, settle=1.0)
        return cls(quick=False, workloads=workloads, step_seconds=4.0, light_seconds=6.0,
                   factor=2.0, refine=2, max_drain=5.0, idle=1.0, max_rate=args.max_rate,
                   scaleout_backends=scaleout, settle=2.0)


@dataclass(frozen=True)
class Cores:
    servers: list[int]  # core for server process 0, 1
    generator: int | None
    helpers: int | None  # Redis, nginx
    count: int

    @classmethod
    def detect(cls) -> Cores:
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) >= 4:
            return cls([cores[0], cores[1]], cores[-1], cores[2], len(cores))
        if len(cores) >= 2:
            return cls([cores[0], cores[0]], cores[1], cores[-1], len(cores))
        return cls([], None, None, len(cores))

    def pin(self, argv: list[str], core: int | None) -> list[str]:
        taskset = shutil.which("taskset")
        if core is None or taskset is None:
            return argv
        return [taskset, "-c", str(core), *argv]


# --- Processes ------------------------------------------------------------------------------------
def free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
        if port != 8000:
            return port


def wait_port(proc: subprocess.Popen[bytes], port: int, log_path: Path, limit: float = 60.0
              ) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited early:\n{tail(log_path)}")
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {limit:g}s:\n{tail(log_path)}")


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def process(argv: list[str], *, port: int, log_path: Path, env: dict[str, str] | None = None,
            cwd: Path = ROOT) -> Iterator[subprocess.Popen[bytes]]:
    """A subprocess that listens on `port`; always stopped (its own pid only) on the way out."""
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_port(proc, port, log_path)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_tree(pid: int) -> list[int]:
    """A process and its children (nginx's master and its worker)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [pid, *(int(child) for child in handle.read().split())]
    except OSError:
        return [pid]


def core_busy_seconds(core: int | None) -> float:
    """CPU time the whole machine spent on one core (every program), from /proc/stat."""
    if core is None:
        return 0.0
    with open("/proc/stat") as handle:
        for line in handle:
            if line.startswith(f"cpu{core} "):
                values = [int(v) for v in line.split()[1:]]
                return (sum(values[:8]) - values[3] - values[4]) / CLK_TCK  # minus idle, iowait
    return 0.0


def proc_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as handle:
        return int(handle.read().split()[1]) * PAGE_KB


def proc_sockets(pid: int) -> int:
    count = 0
    with contextlib.suppress(OSError):
        for entry in os.scandir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(entry.path).startswith("socket:"):
                    count += 1
    return count


# --- Redis and PostgreSQL helpers -----------------------------------------------------------------
@contextlib.contextmanager
def private_redis(tmp: Path, cores: Cores) -> Iterator[str]:
    """A redis-server of our own, so its command counts are this bench's alone."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    argv = cores.pin([binary, "--port", str(port), "--bind", HOST, "--save", "",
                      "--appendonly", "no", "--dir", str(tmp), "--loglevel", "warning",
                      "--maxclients", "10000"], cores.helpers)
    with process(argv, port=port, log_path=tmp / "redis.log"):
        yield f"redis://{HOST}:{port}/0"


def redis_commands(url: str) -> int:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        return int(client.info("stats")["total_commands_processed"])
    finally:
        client.close()


def redis_command_stats(url: str) -> dict[str, int]:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        return {k.removeprefix("cmdstat_"): int(v["calls"])
                for k, v in client.info("commandstats").items()}
    finally:
        client.close()


def pg_recreate(drop_only: bool = False) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {PG_DB}")
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{PG_DB}".replace("postgresql://", "postgres://", 1)


# --- nginx ----------------------------------------------------------------------------------------
def nginx_binary() -> str | None:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def ensure_nginx() -> str | None:
    """nginx from Debian's packages; installed here only when running as root."""
    binary = nginx_binary()
    if binary is not None:
        return binary
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        log("nginx is not installed and this is not root: skipping the scale-out run "
            "(install it with `apt-get install -y nginx`)")
        return None
    log("installing nginx with apt-get (its service is kept from starting)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # policy-rc.d 101: "do not start services" during the install, so the package does not leave a
    # system nginx (with an access log) running on port 80.
    policy = Path("/usr/sbin/policy-rc.d")
    made_policy = not policy.exists()
    if made_policy:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        done = subprocess.run(["apt-get", "install", "-y", "-q", "nginx"], env=env,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True,
                           timeout=600)
            done = subprocess.run(["apt-get", "install", "-y", "-q", "nginx"], env=env,
                                  capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            log(f"apt-get install nginx failed: {done.stderr[-500:]}")
    finally:
        if made_policy:
            policy.unlink(missing_ok=True)
    return nginx_binary()


NGINX_CONF = """\
# Generated by bench/run.py: a loopback load balancer in front of {n} Halqa process(es).
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
# No access log at all; the error log only at `crit`, as lower levels name the client's address.
error_log {tmp}/error.log crit;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream halqa {{
{servers}
    }}
    server {{
        listen {host}:{port};
        location / {{
            proxy_pass http://halqa;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
            proxy_buffering off;
        }}
    }}
}}
"""


@contextlib.contextmanager
def nginx(binary: str, port: int, backends: list[int], tmp: Path, cores: Cores
          ) -> Iterator[int]:
    """nginx in front of `backends` on 127.0.0.1:`port`; yields its master's pid."""
    conf_dir = tmp / "nginx"
    conf_dir.mkdir(exist_ok=True)
    conf_dir.chmod(0o755)
    servers = "\n".join(f"        server {HOST}:{p};" for p in backends)
    conf = conf_dir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(n=len(backends), tmp=conf_dir, servers=servers, host=HOST,
                                      port=port))
    argv = cores.pin([binary, "-c", str(conf), "-p", str(conf_dir), "-e",
                      str(conf_dir / "error.log")], cores.helpers)
    with process(argv, port=port, log_path=conf_dir / "stdout.log") as proc:
        yield proc.pid


# --- Targets --------------------------------------------------------------------------------------
@dataclass
class Running:
    """A started target: how to reach it, which processes to watch, what to clean."""

    adapter: Callable[[int, int], Adapter]  # (circles, members) -> adapter
    pids: list[int]
    redis_url: str | None = None
    extra_pids: dict[str, int] = field(default_factory=dict)  # nginx


def halqa_env(var: Path, *, database_url: str, redis_url: str = "", flavour: str = "core",
              prefix: str = "halqabench") -> dict[str, str]:
    return {
        **os.environ,
        "HALQA_VAR_DIR": str(var),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,  # explicit: a developer's .env must not choose for the bench
        "REDIS_PREFIX": prefix,
        "CHANNEL_LAYER": flavour,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SETTINGS_MODULE": "server.settings",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def halqa_prepare(env: dict[str, str], plan: Plan, tmp: Path) -> dict[str, Any]:
    out = tmp / "plan.json"
    argv = [PY, str(BENCH / "prepare.py"), "--out", str(out)]
    for circles, members in plan.workloads:
        argv += ["--workload", f"{circles}x{members}"]
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(
            f"bench/prepare.py failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return json.loads(out.read_text())


def halqa_adapter_factory(name: str, base: str, prepared: dict[str, Any]
                          ) -> Callable[[int, int], Adapter]:
    def make(circles: int, members: int) -> Adapter:
        slugs = prepared["workloads"][f"{circles}x{members}"]
        pool = prepared["sessions"]
        sessions = [[pool[c * members + m] for m in range(members)] for c in range(circles)]
        return halqa_adapter(name, base, slugs, sessions)
    return make


@contextlib.contextmanager
def start_target(name: str, plan: Plan, cores: Cores, tmp: Path, *, backends: int = 1,
                 nginx_bin: str | None = None) -> Iterator[Running]:
    with contextlib.ExitStack() as stack:
        if name in ("halqa", "halqa-pg", "halqa-pubsub", "scaleout"):
            var = tmp / "var"
            var.mkdir(exist_ok=True)
            redis_url = ""
            if name == "halqa":
                env = halqa_env(var, database_url=f"sqlite:///{var / 'bench.sqlite3'}")
            else:
                redis_url = stack.enter_context(private_redis(tmp, cores))
                database_url = pg_recreate()
                stack.callback(pg_recreate, drop_only=True)
                env = halqa_env(var, database_url=database_url, redis_url=redis_url,
                                flavour="pubsub" if name == "halqa-pubsub" else "core")
            front = free_port() if name == "scaleout" else 0
            if front:
                # The page's origin is nginx's, not the port each process serves.
                env["SITE_ORIGINS"] = f"http://{HOST}:{front}"
            log(f"{name}: preparing the database (migrate, circles, identities)")
            prepared = halqa_prepare(env, plan, tmp)
            pids, ports = [], []
            for i in range(backends):
                port = free_port()
                argv = [PY, "manage.py", "serve", "--host", HOST, "--port", str(port)]
                if name == "halqa":
                    argv += ["--purge-every", "60"]  # exactly what `make run` serves
                proc = stack.enter_context(process(
                    cores.pin(argv, cores.servers[i] if cores.servers else None), port=port,
                    log_path=tmp / f"server{i}.log", env=env))
                pids.append(proc.pid)
                ports.append(port)
            extra: dict[str, int] = {}
            if name == "scaleout":
                assert nginx_bin is not None
                extra["nginx"] = stack.enter_context(nginx(nginx_bin, front, ports, tmp, cores))
                base = f"http://{HOST}:{front}"
            else:
                base = f"http://{HOST}:{ports[0]}"
            yield Running(adapter=halqa_adapter_factory(name, base, prepared), pids=pids,
                          redis_url=redis_url or None, extra_pids=extra)
            return
        port = free_port()
        redis_url = None
        if name == "channels":
            redis_url = stack.enter_context(private_redis(tmp, cores))
            argv = [PY, str(BENCH / "baseline_channels.py"), "--serve", "--port", str(port),
                    "--layer", "redis", "--prefix", "channelsbench", "--redis-url", redis_url]
        elif name == "bare":
            argv = [PY, str(BENCH / "baseline_bare_asgi.py"), "--port", str(port)]
        elif name == "raw":
            argv = [PY, str(BENCH / "baseline_raw_ws.py"), "--serve", "--port", str(port)]
        else:
            raise ValueError(name)
        proc = stack.enter_context(process(
            cores.pin(argv, cores.servers[0] if cores.servers else None), port=port,
            log_path=tmp / "server.log", cwd=BENCH))
        url = f"ws://{HOST}:{port}/ws/{{circle}}/"
        yield Running(adapter=lambda c, m: echo_adapter(name, url), pids=[proc.pid],
                      redis_url=redis_url)


# --- Measuring ------------------------------------------------------------------------------------
@dataclass
class WorkloadResult:
    circles: int
    members: int
    sockets: int = 0
    best: dict[str, Any] | None = None  # the highest passing step
    first_fail: dict[str, Any] | None = None
    light: dict[str, Any] | None = None
    cpu_ms_per_delivery: float = math.nan
    mem_kib_per_socket: float = math.nan
    redis_ops_per_msg: float = math.nan
    redis_idle_ops_per_s: float = math.nan
    generator_limited: bool = False
    socket_spread: list[int] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    @property
    def within_slo(self) -> float:
        return self.best["offered"] if self.best else 0.0


def step_dict(result: StepResult) -> dict[str, Any]:
    data = {k: v for k, v in asdict(result).items() if k not in ("errors", "closed")}
    data.update(offered=result.offered, lost=result.lost, ok=result.ok,
                generator_limited=result.generator_limited,
                errors=dict(result.errors), closed={str(k): v for k, v in result.closed.items()})
    return data


async def measure_workload(running: Running, circles: int, members: int, plan: Plan,
                           cores: Cores, *, memory: bool) -> WorkloadResult:
    out = WorkloadResult(circles=circles, members=members)
    gen = LoadGen(running.adapter(circles, members), circles, members, log=log)
    pids = running.pids
    try:
        if memory:
            # Warm up (imports, caches, first queries), then RSS with no socket at all.
            warm = gen.members[:members]
            await gen.connect(warm)
            await gen.close()
            for m in warm:
                m.ws = None
                m.reader = None
            await asyncio.sleep(plan.settle)
            rss0 = sum(proc_rss_kb(p) for p in pids)
        sockets0 = [proc_sockets(p) for p in pids]
        began = time.monotonic()
        opened = await gen.connect()
        out.sockets = opened
        log(f"  {circles}x{members}: {opened}/{circles * members} sockets joined in "
            f"{time.monotonic() - began:.1f}s" + (f" (failures: {dict(gen.join_failures)})"
                                                   if gen.join_failures else ""))
        if opened < circles * members:
            out.note = f"only {opened}/{circles * members} sockets joined"
        if not opened:
            return out
        out.socket_spread = [proc_sockets(p) - s0 for p, s0 in zip(pids, sockets0, strict=True)]
        await asyncio.sleep(plan.settle)  # let the joins settle (presence frames, history)
        if memory:
            rss1 = sum(proc_rss_kb(p) for p in pids)
            out.mem_kib_per_socket = (rss1 - rss0) / opened
            log(f"  memory: {rss0 / 1024:.1f} MiB idle, {rss1 / 1024:.1f} MiB with {opened} "
                f"sockets: {out.mem_kib_per_socket:.1f} KiB per socket")
        if running.redis_url:
            idle_began, c0 = time.monotonic(), redis_commands(running.redis_url)
            await asyncio.sleep(plan.settle)
            out.redis_idle_ops_per_s = ((redis_commands(running.redis_url) - c0 - 1)
                                        / (time.monotonic() - idle_began))
        # Not measured: two messages per circle, so that the table is about circles in use.
        # Halqa opens a circle's session (a new key) on its first message and each sender's
        # key on that sender's first; without this, the light load (about one message per
        # circle) would time only those first messages.
        await gen.step(float(circles), 2.0, idle=plan.idle, max_drain=plan.max_drain)
        await gen.quiet()
        await ladder(gen, out, running, plan, cores)
    finally:
        await gen.close()
    return out


async def measured_step(gen: LoadGen, running: Running, rate: float, seconds: float,
                        plan: Plan, cores: Cores) -> StepResult:
    if gen.connected < len(gen.members):
        await gen.connect()  # sockets the server closed in a failed step come back
    cpu0 = sum(proc_cpu_seconds(p) for p in running.pids)
    server_core = cores.servers[0] if cores.servers else None
    busy0 = core_busy_seconds(server_core)
    extra_pids = {k: proc_tree(p) for k, p in running.extra_pids.items()}
    extra0 = {k: sum(proc_cpu_seconds(p) for p in pids) for k, pids in extra_pids.items()}
    redis0 = redis_commands(running.redis_url) if running.redis_url else 0
    result = await gen.step(rate, seconds, idle=plan.idle, max_drain=plan.max_drain)
    cpu = sum(proc_cpu_seconds(p) for p in running.pids) - cpu0
    result.server["cpu_s"] = cpu
    result.server["server_cpu"] = cpu / result.wall / len(running.pids)
    if server_core is not None:
        # What other programs (PostgreSQL included) took of the server's core meanwhile.
        result.server["core_others"] = max(
            0.0, core_busy_seconds(server_core) - busy0 - cpu) / result.wall
    if result.received:
        result.server["cpu_ms_per_delivery"] = cpu * 1000 / result.received
    for key, pids in extra_pids.items():
        result.server[f"{key}_cpu"] = (sum(proc_cpu_seconds(p) for p in pids) - extra0[key]
                                       ) / result.wall
    if running.redis_url and result.sent:
        ops = redis_commands(running.redis_url) - redis0 - 1
        result.server["redis_ops_per_msg"] = ops / result.sent
    log("    " + result.line())
    quiet = await gen.quiet(idle=0.5, limit=5.0 if result.ok else 20.0)
    if not quiet:
        log("    (the server was still delivering this step's backlog 20 s later)")
    return result


MAX_RETRIES = 3  # per ladder
OTHERS_RETRY = 0.30  # share of the server's core taken by other programs that earns a retry


def disturbance(result: StepResult) -> str:
    """Why a step may have failed for reasons outside the server ('' when none is seen)."""
    if result.generator_limited and result.generator_cpu < GENERATOR_CPU_LIMIT:
        return "the generator was held up (its core was busy with another program)"
    if result.server.get("core_others", 0.0) >= OTHERS_RETRY:
        return (f"other programs took {result.server['core_others']:.0%} of the server's core "
                "(PostgreSQL counts there)")
    return ""


async def ladder(gen: LoadGen, out: WorkloadResult, running: Running, plan: Plan,
                 cores: Cores) -> None:
    """Light load, then x factor until a step fails, then bisect between pass and fail."""
    steps: list[StepResult] = []
    retries = [MAX_RETRIES]

    async def run(rate: float, seconds: float) -> StepResult:
        result = await measured_step(gen, running, rate, seconds, plan, cores)
        disturbed = disturbance(result)
        if not result.ok and disturbed and retries[0] > 0:
            # A step that failed while something else held a core says little about the
            # server: once more (a few times per ladder at most, to bound the run's length).
            retries[0] -= 1
            log(f"    {disturbed}: the same step again")
            steps.append(result)
            result = await measured_step(gen, running, rate, seconds, plan, cores)
        steps.append(result)
        return result

    light = await run(LIGHT_RATE, plan.light_seconds)
    best = light if light.ok else None
    fail = None if light.ok else light
    if light.ok:
        rate = LIGHT_RATE * plan.factor
        while rate <= plan.max_rate:
            result = await run(rate, plan.step_seconds)
            if not result.ok:
                fail = result
                break
            best = result
            if result.generator_cpu >= GENERATOR_CPU_LIMIT:
                break  # going on would measure the generator, not the server
            rate *= plan.factor
    else:
        # Down, while every circle still sends at least once in about three steps' time.
        rate = LIGHT_RATE / plan.factor
        while rate >= gen.circles / (3 * plan.step_seconds):
            result = await run(rate, max(plan.step_seconds, gen.circles / rate))
            if result.ok:
                best = result
                break
            fail = result
            rate /= plan.factor
    for _ in range(plan.refine):
        if best is None or fail is None or fail.rate / best.rate < 1.15:
            break
        result = await run(math.sqrt(best.rate * fail.rate), plan.step_seconds)
        if result.ok and result.rate > best.rate:
            best = result
        elif not result.ok:
            fail = result
    out.steps = [step_dict(s) for s in steps]
    out.light = step_dict(light)
    out.best = step_dict(best) if best else None
    out.first_fail = step_dict(fail) if fail else None
    # The generator was the limit when the step that failed may have failed because of it
    # (its CPU full, or its sends late: latency counts from the scheduled time), or when the
    # ladder stopped on a passing step because the generator's core was full.
    out.generator_limited = bool(fail.generator_limited if fail is not None
                                 else best is not None and best.generator_limited)
    passing = [s for s in steps if s.ok]
    delivered = sum(s.received for s in passing)
    if delivered:
        out.cpu_ms_per_delivery = sum(s.server["cpu_s"] for s in passing) * 1000 / delivered
    elif light.received:
        out.cpu_ms_per_delivery = light.server["cpu_s"] * 1000 / light.received
        out.note = (out.note + "; " if out.note else "") + "CPU from the failing light step"
    if best is not None and "redis_ops_per_msg" in best.server:
        out.redis_ops_per_msg = best.server["redis_ops_per_msg"]


@dataclass
class TargetResult:
    name: str
    label: str
    workloads: list[WorkloadResult] = field(default_factory=list)
    error: str = ""
    backends: int = 1
    seconds: float = 0.0


async def measure_target(name: str, plan: Plan, cores: Cores, *, backends: int = 1,
                         nginx_bin: str | None = None) -> TargetResult:
    label = LABELS.get(name, name)
    if name == "scaleout":
        label = (f"Halqa, {backends} process{'es' if backends > 1 else ''} behind nginx "
                 "(Redis core layer + PostgreSQL)")
    out = TargetResult(name=name if name != "scaleout" else f"scaleout-{backends}", label=label,
                       backends=backends)
    began = time.monotonic()
    log(f"== {out.name}: {label}")
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp_name:
        tmp = Path(tmp_name)
        os.chmod(tmp, 0o755)  # nginx's workers (another user) read their config there
        try:
            with start_target(name, plan, cores, tmp, backends=backends,
                              nginx_bin=nginx_bin) as running:
                workloads = plan.workloads[:1] if name == "scaleout" else plan.workloads
                for i, (circles, members) in enumerate(workloads):
                    result = await measure_workload(running, circles, members, plan, cores,
                                                    memory=(i == 0))
                    out.workloads.append(result)
                    await asyncio.sleep(plan.settle / 2)
                if running.redis_url:
                    top = sorted(redis_command_stats(running.redis_url).items(),
                                 key=lambda kv: -kv[1])[:6]
                    log("  Redis commands over the run: "
                        + ", ".join(f"{k} {v}" for k, v in top))
        except Exception as exc:
            out.error = f"{type(exc).__name__}: {exc}"
            log(f"  {out.name} failed: {out.error}")
            for log_name in ["server.log", *(f"server{i}.log" for i in range(backends))]:
                text = tail(tmp / log_name, 15)
                if text != "(no log)":
                    log(f"  {log_name}:\n{text}")
    out.seconds = time.monotonic() - began
    return out


# --- Report ---------------------------------------------------------------------------------------
def fmt_rate(w: WorkloadResult | None) -> str:
    if w is None:
        return "-"
    if w.best is None:
        return f"< {w.first_fail['offered']:,.0f} (none passed)" if w.first_fail else "-"
    text = f"{w.within_slo:,.0f}"
    if w.generator_limited:
        text = f">= {text} (generator limit)"
    return text


def fmt_ms(value: float, digits: int = 2) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f} ms"


def workload(target: TargetResult, circles: int, members: int) -> WorkloadResult | None:
    for w in target.workloads:
        if (w.circles, w.members) == (circles, members):
            return w
    return None


def machine_busy(seconds: float = 1.0) -> float:
    """Share of all cores busy over `seconds`, before the bench starts anything."""
    def sample() -> tuple[int, int]:
        with open("/proc/stat") as handle:
            values = [int(v) for v in handle.readline().split()[1:]]
        return sum(values[:8]), values[3] + values[4]
    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def report(results: list[TargetResult], plan: Plan, cores: Cores, elapsed: float,
           busy: float) -> str:
    lines: list[str] = []
    first = plan.workloads[0]
    names = [f"{c}x{m}" for c, m in plan.workloads]
    lines.append(
        f"Open-loop load, {' and '.join(names)} (circles x members), one sender per circle; "
        f"SLO = p99 <= {SLO_P99_MS:g} ms with nothing lost; {cores.count} cores, "
        + (f"server on core {cores.servers[0]}, generator on core {cores.generator}"
           if cores.servers else "no pinning (one core)")
        + f"; {'quick' if plan.quick else 'full'} run, {elapsed / 60:.1f} min; before it started, "
        f"other programs kept the machine {busy:.0%} busy"
        + (" (figures will be noisy: see the notes)." if busy >= 0.10 else "."))
    lines.append("")
    head = ["server"] + [f"deliveries/s within the SLO, {n}" for n in names] + [
        f"server CPU per delivery ({names[0]})", f"p50 / p99 at {LIGHT_RATE:g} msgs/s "
        f"({names[0]})", "memory per idle socket", "notes"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|---|" + "---:|" * (len(head) - 2) + "---|")
    singles = [r for r in results if not r.name.startswith("scaleout")]
    for r in singles:
        if r.error:
            lines.append(f"| {r.label} | " + " | ".join(["-"] * (len(head) - 2))
                         + f" | failed: {r.error[:120]} |")
            continue
        w0 = workload(r, *first)
        cells = [fmt_rate(workload(r, c, m)) for c, m in plan.workloads]
        light = w0.light if w0 else None
        notes = []
        for w in r.workloads:
            if w.generator_limited:
                notes.append(f"{w.circles}x{w.members}: generator-limited")
            if w.note:
                notes.append(f"{w.circles}x{w.members}: {w.note}")
            if w.first_fail and w.first_fail.get("errors"):
                notes.append(f"{w.circles}x{w.members}: errors {w.first_fail['errors']}")
            others = max((s["server"].get("core_others", 0.0) for s in w.steps), default=0.0)
            if others >= 0.10:
                notes.append(f"{w.circles}x{w.members}: other programs took up to {others:.0%} "
                             "of the server's core during a step")
        cells += [
            fmt_ms(w0.cpu_ms_per_delivery, 3) if w0 else "-",
            (f"{fmt_ms(light['p50_ms'], 1)} / {fmt_ms(light['p99_ms'], 1)}"
             + ("" if light["ok"] else " (fails)")) if light else "-",
            f"{w0.mem_kib_per_socket:.1f} KiB" if w0 and not math.isnan(w0.mem_kib_per_socket)
            else "-",
            "; ".join(notes) or "",
        ]
        lines.append(f"| {r.label} | " + " | ".join(cells) + " |")
    lines.append("")
    by_name = {r.name: r for r in results if not r.error}
    for halqa in ("halqa", "halqa-pg", "halqa-pubsub"):
        if halqa not in by_name:
            continue
        for base, letter in (("channels", "b"), ("bare", "d")):
            if base not in by_name:
                continue
            parts = []
            for c, m in plan.workloads:
                hw, bw = workload(by_name[halqa], c, m), workload(by_name[base], c, m)
                if hw and bw and hw.best is None:
                    parts.append(f"deliveries/s {c}x{m} - ({halqa}: no step passed)")
                elif hw and bw and bw.within_slo:
                    parts.append(f"deliveries/s {c}x{m} {hw.within_slo / bw.within_slo:.2f}x"
                                 + (" (b/d generator-limited: an upper bound)"
                                    if bw.generator_limited else ""))
            hw, bw = workload(by_name[halqa], *first), workload(by_name[base], *first)
            if hw and bw and hw.light and bw.light and bw.light["p50_ms"]:
                parts.append(f"p50 at {LIGHT_RATE:g} msgs/s "
                             f"{hw.light['p50_ms'] / bw.light['p50_ms']:.1f}x")
            if hw and bw and bw.cpu_ms_per_delivery:
                ratio = hw.cpu_ms_per_delivery / bw.cpu_ms_per_delivery
                parts.append(f"CPU per delivery {ratio:.1f}x")
            lines.append(f"- {halqa} / {base} ({letter}): " + ", ".join(parts))
    limited = [f"{r.name} {w.circles}x{w.members}" for r in results for w in r.workloads
               if w.generator_limited]
    lines.append("- generator-limited rows: " + (", ".join(limited) if limited else "none"))
    redis_rows = [(r, w) for r in results for w in r.workloads
                  if not math.isnan(w.redis_ops_per_msg)]
    for r, w in redis_rows:
        lines.append(f"- Redis commands per message, {r.name} {w.circles}x{w.members}: "
                     f"{w.redis_ops_per_msg:.1f} at {w.within_slo:,.0f} deliveries/s "
                     f"(idle: {w.redis_idle_ops_per_s:.0f} commands/s with {w.sockets} sockets)")
    scaled = [r for r in results if r.name.startswith("scaleout")]
    if scaled:
        lines.append("")
        lines.append(f"Scale-out ({names[0]}, Redis + PostgreSQL, nginx on loopback, members of "
                     "every circle spread over the processes):")
        lines.append("")
        lines.append("| processes | deliveries/s within the SLO | server CPU per delivery "
                     "(all processes) | nginx CPU at best step | Redis commands per message | "
                     "sockets per process | notes |")
        lines.append("|---:|---:|---:|---:|---:|---|---|")
        for r in scaled:
            if r.error or not r.workloads:
                lines.append(f"| {r.backends} | - | - | - | - | - | failed: {r.error[:120]} |")
                continue
            w = r.workloads[0]
            nginx_cpu = w.best["server"].get("nginx_cpu") if w.best else None
            lines.append(
                f"| {r.backends} | {fmt_rate(w)} | {fmt_ms(w.cpu_ms_per_delivery, 3)} | "
                + (f"{nginx_cpu:.0%}" if nginx_cpu is not None else "-") + " | "
                + ("-" if math.isnan(w.redis_ops_per_msg) else f"{w.redis_ops_per_msg:.1f}")
                + f" | {' / '.join(str(s) for s in w.socket_spread)} | {w.note} |")
        if cores.count < 4:
            lines.append("")
            lines.append(f"This machine has {cores.count} cores: both processes share core "
                         f"{cores.servers[0] if cores.servers else 0}, so two processes cannot "
                         "show the 1.6x target here; compare CPU per delivery instead.")
    return "\n".join(lines)


# --- Main -----------------------------------------------------------------------------------------
async def main_async(args: argparse.Namespace) -> int:
    plan = Plan.build(args)
    cores = Cores.detect()
    if cores.generator is not None:
        os.sched_setaffinity(0, {cores.generator})
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = set(targets) - set(ALL_TARGETS)
    if unknown:
        raise SystemExit(f"unknown targets: {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(ALL_TARGETS)}")
    log(f"{cores.count} cores: servers on {cores.servers or '-'}, generator on "
        f"{cores.generator}, Redis/nginx on {cores.helpers}; workloads "
        f"{', '.join(f'{c}x{m}' for c, m in plan.workloads)}; "
        f"{'quick' if plan.quick else 'full'} run")
    busy = machine_busy()
    if busy >= 0.10:
        log(f"other programs keep this machine {busy:.0%} busy: the figures will be noisy")
    began = time.monotonic()
    results: list[TargetResult] = []
    for name in targets:
        if name == "scaleout":
            binary = ensure_nginx()
            if binary is None:
                results.append(TargetResult(name="scaleout-2", label="scale-out", backends=2,
                                            error="nginx not available (not root)"))
                continue
            for backends in plan.scaleout_backends:
                results.append(await measure_target(name, plan, cores, backends=backends,
                                                    nginx_bin=binary))
        else:
            results.append(await measure_target(name, plan, cores))
    elapsed = time.monotonic() - began
    table = report(results, plan, cores, elapsed, busy)
    print(table, flush=True)
    if args.json:
        with open(args.json, "w") as handle:  # noqa: ASYNC230 (once, at the very end)
            json.dump({"plan": asdict(plan), "cores": asdict(cores), "elapsed_s": elapsed,
                       "results": [asdict(r) for r in results]}, handle, indent=1, default=str)
        log(f"details written to {args.json}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a ~2-minute smoke run: 10x10 only, short steps, x4 ladder, "
                             "no bisection")
    parser.add_argument("--targets", default=",".join(DEFAULT_TARGETS),
                        help=f"comma-separated, from {', '.join(ALL_TARGETS)}")
    parser.add_argument("--workloads", default=None,
                        help="comma-separated CxM (circles x members); default 50x20,10x50")
    parser.add_argument("--scaleout-processes", default="2",
                        help="comma-separated process counts behind nginx for the scaleout "
                             "target, e.g. 1,2 (its one-process figure is halqa-pg otherwise)")
    parser.add_argument("--max-rate", type=float, default=5000.0,
                        help="highest rate tried, messages/s over all circles")
    parser.add_argument("--json", default="", help="write every step's figures to this file")
    args = parser.parse_args()
    args.workloads = args.workloads or ("10x10" if args.quick else "50x20,10x50")
    loop = install_fast_loop()
    log(f"generator event loop: {loop}")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
