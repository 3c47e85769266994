"""Benchmark: from a castVote to the LAST of N subscribers having the new tally, vs a raw broadcast.

    .venv/bin/python bench/fanout.py [--levels 1000,5000,10000] [--processes 1,2] [--repeats 3] [--deflate]

Creates a fresh PostgreSQL database (parvis_fanout; seeds the demo at --scale), one fresh
open poll and a few fresh voters. For each number of server processes (1: in-process broker;
2: the same PostgreSQL + Redis, subscribers split across both, every vote sent to the first)
it starts `server.py serve` (PARVIS_ENV=production, fd limit raised) and the raw baseline
(bench/ws_broadcast_server.py: one Starlette websocket endpoint that broadcasts a POSTed
body to every socket), then two load generators (bench/wsclients.py, separate processes,
bare asyncio sockets): one with N pollResults subscriptions on the app, one with N plain
sockets on the baseline. Sockets are opened level by level (1,000, then 4,000 more, ...);
at each level, alternating, --repeats times:
  - app: a fresh voter's castVote over HTTP; the time from just before the request to the
    moment the last subscriber received a `next` frame with the new totalVotes (and its own
    subscription id);
  - raw: POST /poke with the same frame text; the time until the last socket received it.
Also the server's RSS (/proc/<pid>/status VmRSS) before any socket and at each level, and its
CPU time (utime+stime) per fan-out. Everything on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline_server import gid  # noqa: E402
from common import (  # noqa: E402
    BENCH,
    PYTHON,
    ROOT,
    drop_database,
    free_port,
    log,
    machine,
    post_json,
    prepare_database,
    table,
)
from votes import make_poll, make_voters  # noqa: E402

SUBSCRIPTION = ("subscription($p: ID!) { pollResults(pollId: $p) { totalVotes final "
                "options { votes share option { label } } } }")
RESULTS_QUERY = ("query($p: ID!) { node(id: $p) { ... on Poll { results { totalVotes final "
                 "options { votes share option { label } } } } } }")
VOTE = ("mutation($p: ID!, $o: [ID!]!) { castVote(input: {pollId: $p, optionIds: $o}) "
        "{ userErrors { code } } }")
FD_LIMIT = 200_000
WAIT = 60.0


def raise_fd_limit() -> None:
    # Root may raise the hard limit; in a container without CAP_SYS_RESOURCE, take the hard one.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, FD_LIMIT), max(hard, FD_LIMIT)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Proc:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start(name: str, argv: list[str], port: int, env: dict[str, str]) -> Proc:
    logfile = open(BENCH / f".{name}.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [PYTHON, *argv], cwd=ROOT, env={**os.environ, **env}, stdout=logfile, stderr=subprocess.STDOUT,
        start_new_session=True, preexec_fn=raise_fd_limit,
    )
    proc = Proc(name, port, process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode} at start (see bench/.{name}.log)")
        try:
            with urllib.request.urlopen(proc.base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    log(f"{name} up on port {port} (pid {process.pid})")
                    return proc
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{name} did not answer /healthz in 30 s")


def stop(proc: Proc) -> None:
    if proc.process.poll() is None:
        proc.process.send_signal(signal.SIGINT)
        try:
            proc.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.process.kill()
            proc.process.wait()


class Crowd:
    """A bench/wsclients.py process, driven by JSON lines."""

    def __init__(self, name: str, spec: dict[str, Any]) -> None:
        self.name = name
        self.spec_file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)  # noqa: SIM115
        json.dump(spec, self.spec_file)
        self.spec_file.close()
        self.process = subprocess.Popen(
            [PYTHON, str(BENCH / "wsclients.py"), self.spec_file.name], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, preexec_fn=raise_fd_limit,
        )
        self.ask_raw()  # hello

    def ask_raw(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"load generator {self.name} died (exit {self.process.poll()})")
        return json.loads(line)  # type: ignore[no-any-return]

    def ask(self, **command: Any) -> dict[str, Any]:
        stdin: IO[str] = self.process.stdin  # type: ignore[assignment]
        stdin.write(json.dumps(command) + "\n")
        stdin.flush()
        answer = self.ask_raw()
        if "error" in answer:
            raise SystemExit(f"load generator {self.name}: {answer['error']}")
        return answer

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.ask(cmd="quit")
            except (SystemExit, BrokenPipeError, ValueError):
                pass
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        os.unlink(self.spec_file.name)


@dataclass
class Level:
    processes: int
    subscribers: int
    app_ms: list[float] = field(default_factory=list)
    raw_ms: list[float] = field(default_factory=list)
    app_cpu_ms: list[float] = field(default_factory=list)
    raw_cpu_ms: list[float] = field(default_factory=list)
    app_kib_per_sub: float = 0.0
    raw_kib_per_sock: float = 0.0
    open_s: float = 0.0
    problems: list[str] = field(default_factory=list)


def frame_for(app: Proc, poll_gid: str, token: str) -> tuple[dict[str, Any], int]:
    # Authenticated: never an answer from the anonymous response cache.
    data = post_json(app.base + "/graphql", {"query": RESULTS_QUERY, "variables": {"p": poll_gid}}, token)
    results = data["data"]["node"]["results"]
    return results, results["totalVotes"]


def run_config(args: argparse.Namespace, url: str, processes: int, levels: list[int],
               voters: list[tuple[int, str]], profile: str | None) -> list[Level]:
    poll_id, options = asyncio.run(make_poll(url, f"fanout {processes} process(es)"))
    reader = voters[0][1]  # reads the tally; never votes (voters.pop() takes from the end)
    poll_gid = gid("Poll", poll_id)
    option_gids = [gid("PollOption", o) for o in options]
    # Production's serve requires PARVIS_SECRET (docs/adr/0009).
    # Every subscriber connects from this machine: one address, far past the per-address
    # request limit a public deployment keeps (as bench/common.py does for its servers).
    env = {"DATABASE_URL": url, "PARVIS_ENV": "production",
           "PARVIS_SECRET": os.environ.get("PARVIS_SECRET") or secrets.token_urlsafe(48),
           "PARVIS_RATE_LIMITS": "requests_ip=1000000000/60"}
    if args.deflate_server is not None:
        env["PARVIS_WS_DEFLATE"] = args.deflate_server
    if processes > 1:
        env["REDIS_URL"] = args.redis
    apps: list[Proc] = []
    raw: Proc | None = None
    crowds: list[Crowd] = []
    out: list[Level] = []
    try:
        for n in range(processes):
            port = free_port()
            apps.append(start(f"fanout-app{n}", ["server.py", "serve", "--port", str(port)], port, env))
        raw_port = free_port()
        raw_argv = ["bench/ws_broadcast_server.py", "--port", str(raw_port)]
        if args.deflate and args.deflate_server != "0":
            raw_argv.append("--deflate")
        raw = start("fanout-raw", raw_argv, raw_port, {})
        # Warm both (imports, caches) before the first RSS reading.
        for app in apps:
            frame_for(app, poll_gid, reader)
        time.sleep(0.5)
        rss0 = {app.name: rss_kib(app.process.pid) for app in apps}
        raw_rss0 = rss_kib(raw.process.pid)
        app_crowd = Crowd("app", {
            "targets": [{"port": a.port, "path": "/graphql"} for a in apps], "mode": "graphql",
            "query": SUBSCRIPTION, "variables": {"p": poll_gid}, "deflate": args.deflate})
        crowds.append(app_crowd)
        raw_crowd = Crowd("raw", {"targets": [{"port": raw.port, "path": "/ws"}], "mode": "raw",
                                  "deflate": args.deflate})
        crowds.append(raw_crowd)
        opened = 0
        for size in levels:
            level = Level(processes, size)
            answer = app_crowd.ask(cmd="open", count=size - opened)
            level.open_s = answer["seconds"]
            raw_crowd.ask(cmd="open", count=size - opened)
            opened = size
            log(f"{processes} process(es): {size} subscribers open ({level.open_s:.1f} s; "
                f"{answer['retries']} sockets retried {answer['retry_sample'][:1]})")
            time.sleep(1.0)
            level.app_kib_per_sub = sum(
                (rss_kib(a.process.pid) - rss0[a.name]) for a in apps) / size
            level.raw_kib_per_sock = (rss_kib(raw.process.pid) - raw_rss0) / size
            spy = None
            if profile and size == levels[-1]:
                spy = subprocess.Popen(
                    [str(Path(PYTHON).parent / "py-spy"), "record", "--pid", str(apps[0].process.pid),
                     "--rate", "250", "--format", "raw", "--output", profile, "--nonblocking"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1.0)
            for _ in range(args.repeats):
                # app: a fresh vote, the time until the last subscriber has the new total
                results, total = frame_for(apps[0], poll_gid, reader)
                expected = total + 1
                app_crowd.ask(cmd="arm", needle=f'"totalVotes":{expected},')
                voter_id, token = voters.pop()
                cpu0 = [cpu_seconds(a.process.pid) for a in apps]
                t0 = time.monotonic()
                answer = post_json(apps[0].base + "/graphql", {"query": VOTE, "variables": {
                    "p": poll_gid, "o": [option_gids[expected % len(option_gids)]]}}, token)
                if answer.get("errors") or answer["data"]["castVote"]["userErrors"]:
                    raise SystemExit(f"castVote failed: {answer}")
                got = app_crowd.ask(cmd="wait", timeout=WAIT)
                cpu1 = [cpu_seconds(a.process.pid) for a in apps]
                if got["got"] < got["of"] or not got["ids_ok"] or got["closed"]:
                    level.problems.append(f"app: {got}")
                level.app_ms.append((got["last"] - t0) * 1000)
                level.app_cpu_ms.append(sum(cpu1) * 1000 - sum(cpu0) * 1000)
                time.sleep(0.6)  # past the poll hub's 0.25 s tick
                # raw: the same frame text, broadcast
                results["totalVotes"] = expected
                text = json.dumps({"id": "s0", "type": "next", "payload": {"data": {"pollResults": results}}},
                                  separators=(",", ":"))
                raw_crowd.ask(cmd="arm", needle=f'"totalVotes":{expected},')
                rcpu0 = cpu_seconds(raw.process.pid)
                t0 = time.monotonic()
                request = urllib.request.Request(raw.base + "/poke", data=text.encode(), method="POST")
                with urllib.request.urlopen(request, timeout=WAIT) as response:
                    response.read()
                got = raw_crowd.ask(cmd="wait", timeout=WAIT)
                if got["got"] < got["of"] or got["closed"]:
                    level.problems.append(f"raw: {got}")
                level.raw_ms.append((got["last"] - t0) * 1000)
                level.raw_cpu_ms.append((cpu_seconds(raw.process.pid) - rcpu0) * 1000)
                time.sleep(0.3)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=30)
            log(f"  app {[round(x) for x in level.app_ms]} ms, raw {[round(x) for x in level.raw_ms]} ms, "
                f"{level.app_kib_per_sub:.1f} KiB/subscription {level.problems[:1]}")
            out.append(level)
    finally:
        for crowd in crowds:
            crowd.close()
        for proc in [*apps, *([raw] if raw else [])]:
            stop(proc)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1000,5000,10000")
    parser.add_argument("--processes", default="1,2", help="server process counts to measure (2 needs Redis)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--deflate", action="store_true", help="clients offer permessage-deflate (as browsers do)")
    parser.add_argument("--deflate-server", choices=("0", "1"), default=None,
                        help="PARVIS_WS_DEFLATE for the app (default: the app's own default)")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--profile", default=None, help="py-spy raw (collapsed) profile of the first app "
                        "process during the fan-outs of the largest level (1 process)")
    parser.add_argument("--db", default="parvis_fanout")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    raise_fd_limit()
    levels = [int(x) for x in args.levels.split(",")]
    process_counts = [int(x) for x in args.processes.split(",")]

    url = prepare_database(args.db, args.scale, args.keep_db)
    results: list[Level] = []
    try:
        voters = asyncio.run(make_voters(url, args.repeats * len(levels) * len(process_counts) + 5))
        for processes in process_counts:
            results += run_config(args, url, processes, levels, voters,
                                  args.profile if processes == 1 else None)
    finally:
        if not args.keep_db:
            asyncio.run(drop_database(args.db))

    m = machine()
    print(f"fan-out: pollResults to N subscribers after one castVote; {args.repeats} votes per level, "
          f"alternating with a raw broadcast of the same frame; clients "
          f"{'offer' if args.deflate else 'do not offer'} permessage-deflate"
          f"{'' if args.deflate_server is None else f', PARVIS_WS_DEFLATE={args.deflate_server}'}; "
          f"{m['nproc']} CPUs ({m['cpu']}), Python {m['python']}")
    rows = [["procs", "N", "app last ms (median, max)", "raw last ms (median, max)", "ratio",
             "app CPU ms/fan-out", "raw CPU ms", "KiB/idle sub", "raw KiB/sock", "problems"]]
    for r in results:
        am, rm = statistics.median(r.app_ms), statistics.median(r.raw_ms)
        rows.append([str(r.processes), str(r.subscribers), f"{am:.0f} ({max(r.app_ms):.0f})",
                     f"{rm:.0f} ({max(r.raw_ms):.0f})", f"{am / rm:.2f}x",
                     f"{statistics.median(r.app_cpu_ms):.0f}", f"{statistics.median(r.raw_cpu_ms):.0f}",
                     f"{r.app_kib_per_sub:.1f}", f"{r.raw_kib_per_sock:.1f}", str(len(r.problems))])
    print(table(rows))
    for r in results:
        for problem in r.problems[:3]:
            print(f"problem ({r.processes} procs, N={r.subscribers}): {problem}")
    checks = []
    for r in results:
        am, rm = statistics.median(r.app_ms), statistics.median(r.raw_ms)
        if r.processes == 1 and r.subscribers == 5000:
            checks.append(f"5,000 on one process within 2x raw: {am / rm:.2f}x "
                          f"({'met' if am <= 2 * rm else 'NOT met'})")
        if r.processes == 2 and r.subscribers == 10000:
            checks.append(f"10,000 across two processes within 1 s: {am:.0f} ms "
                          f"({'met' if am <= 1000 else 'NOT met'})")
    worst = max((r.app_kib_per_sub for r in results), default=0.0)
    checks.append(f"idle subscription <= 40 KiB: worst {worst:.1f} KiB ({'met' if worst <= 40 else 'NOT met'})")
    for check in checks:
        print(check)


if __name__ == "__main__":
    main()
