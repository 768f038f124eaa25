"""`make bench-profile`: where a target's server spends its CPU under a steady load.

    .venv/bin/python bench/profile.py [--target halqa] [--workload 50x20] [--rate 150]
                                      [--seconds 30] [--top 25] [--raw out.txt]

Starts the target as `make bench` does (bench/run.py: same servers, same pinning, same joining),
holds C x M sockets, sends `rate` messages/s over all circles for `seconds`, and samples the
server process with py-spy meanwhile (idle samples left out). Prints the frames that take the
most samples, by their own time (self) and with what they call (total), and the step's figures,
so that a change to the hot path can be checked against where the time went before it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from loadgen import LoadGen, install_fast_loop  # noqa: E402  (bench/ is not a package)
from run import ALL_TARGETS, PY, Cores, Plan, log, start_target  # noqa: E402


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("py-spy is missing: `make install` (dev extras) installs it")
    return found


def frame_name(frame: str) -> str:
    """`function (path/to/file.py:123)` -> `function (file.py)`: lines differ per call site."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path.removeprefix('main/')})"


def summarize(raw: Path, top: int) -> str:
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = [frame_name(f) for f in stack.split(";")]
        own[frames[-1]] += n
        for name in set(frames):
            total[name] += n
    if not samples:
        return "no samples (was the server busy?)"
    lines = [f"{samples} samples (non-idle)", "", "self:"]
    lines += [f"  {n / samples:6.1%}  {name}" for name, n in own.most_common(top)]
    lines += ["", "total (with callees):"]
    lines += [f"  {n / samples:6.1%}  {name}" for name, n in total.most_common(top)]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    circles, members = (int(x) for x in args.workload.lower().split("x"))
    plan = Plan.build(argparse.Namespace(workloads=args.workload, scaleout_processes="1",
                                         quick=False, max_rate=args.rate))
    cores = Cores.detect()
    if cores.generator is not None:
        os.sched_setaffinity(0, {cores.generator})
    with tempfile.TemporaryDirectory(prefix="profile-") as tmp_name, \
            start_target(args.target, plan, cores, Path(tmp_name)) as running:
        gen = LoadGen(running.adapter(circles, members), circles, members, log=log)
        try:
            opened = await gen.connect()
            log(f"{opened}/{circles * members} sockets joined; warming up")
            await gen.step(min(args.rate, 20.0), 3.0)
            await gen.quiet()
            raw = Path(args.raw or Path(tmp_name) / "profile.txt")
            spy = await asyncio.create_subprocess_exec(
                py_spy(), "record", "--pid", str(running.pids[0]), "--rate", "250",
                "--duration", str(int(args.seconds)), "--format", "raw", "--nonblocking",
                "--output", str(raw), *(["--gil"] if args.gil else []),
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            await asyncio.sleep(1.0)  # py-spy attaches
            result = await gen.step(args.rate, args.seconds - 2)
            log("step: " + result.line())
            _, err = await spy.communicate()
            if spy.returncode != 0:
                log(f"py-spy failed: {err.decode()[-500:]}")
                return 1
            print(f"{args.target} {args.workload} at {args.rate:g} messages/s "
                  f"({args.rate * members:g} deliveries/s offered)")
            print(summarize(raw, args.top))
        finally:
            with contextlib.suppress(Exception):
                await gen.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="halqa",
                        choices=[t for t in ALL_TARGETS if t != "scaleout"])
    parser.add_argument("--workload", default="50x20", help="CxM: circles x members")
    parser.add_argument("--rate", type=float, default=150.0, help="messages/s, all circles")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--gil", action="store_true",
                        help="sample only the thread holding the GIL (Python's own work)")
    parser.add_argument("--raw", default="", help="keep py-spy's raw stacks in this file")
    args = parser.parse_args()
    install_fast_loop()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
