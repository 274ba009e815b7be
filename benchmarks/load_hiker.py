"""The hiker under load: a real uvicorn on loopback, many clients sending the page's default
request (six optimisers x 500 steps on Rosenbrock), and one client alone.

    python -m benchmarks.load_hiker                    # 50 clients for 30 s, then write RESULTS.md
    python -m benchmarks.load_hiker --seconds 5 --clients 10 --no-write

The server runs in a process of its own (``chainrule hiker``), so that the clients do not share
its interpreter. Reported: requests answered, errors (any status but 200, any failure to
connect or read), requests per second, latency p50 and p99 under load, and p50 and p99 of
one request at a time on the otherwise idle server. The section "Hiker load" is kept in
benchmarks/results.json (beside the workloads' figures, so that ``python -m benchmarks``
keeps it too) and RESULTS.md is rewritten from that file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import harness

RESULTS_MD = Path(__file__).parent / "RESULTS.md"
RESULTS_JSON = Path(__file__).parent / "results.json"
SECTION = "## Hiker load"
DATE = "2026-11-22"


def default_request(client) -> dict:
    """The page's opening request: Rosenbrock from its start, the six optimisers' defaults."""
    optimizers = client.get("/api/optimizers").json()["optimizers"]
    rosenbrock = next(
        s for s in client.get("/api/surfaces").json()["surfaces"] if s["name"] == "rosenbrock"
    )
    return {
        "surface": "rosenbrock",
        "start": rosenbrock["start"],
        "optimizers": [{"name": o["name"], **o["hyperparameters"]} for o in optimizers],
        "steps": 500,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    env = dict(os.environ)
    source = str(Path(__file__).resolve().parent.parent / "src")
    env["PYTHONPATH"] = source + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, "-m", "chainrule", "hiker", "--port", str(port)]
    return subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    import httpx

    until = time.monotonic() + timeout
    while time.monotonic() < until:
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the hiker did not answer at {url} within {timeout} s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def idle_latencies(url: str, body: dict, count: int) -> list[float]:
    import httpx

    times = []
    with httpx.Client(base_url=url, timeout=60.0) as client:
        for _ in range(3):  # warm-up
            client.post("/api/trajectories", json=body)
        for _ in range(count):
            start = time.perf_counter()
            response = client.post("/api/trajectories", json=body)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text
    return times


def cpu_times(body: dict, repeats: int = 5) -> dict:
    """CPU time (process time, less sensitive than wall time to a shared machine) of the
    default request computed in this process: the hiker's side-by-side runs plus writing the
    JSON, and, before them, the same six runs by ``cr.descend`` one after another."""
    import chainrule as cr
    from chainrule.web import handlers, schemas
    from chainrule.web.app import json_bytes

    request = schemas.TrajectoriesRequest(**body)
    surface = cr.surfaces.get(body["surface"])

    def hiker():
        json_bytes(handlers.compute_trajectories(request))

    def one_by_one():
        for choice in body["optimizers"]:
            options = {k: v for k, v in choice.items() if k != "name"}
            if "betas" in options:
                options["betas"] = tuple(options["betas"])
            cr.descend(surface, body["start"], choice["name"], steps=500, tol=1e-6, **options)

    def best(work, n):
        times = []
        for _ in range(n):
            start = time.process_time()
            work()
            times.append(time.process_time() - start)
        return min(times)

    return {"hiker": best(hiker, repeats), "descend": best(one_by_one, 2)}


async def _load(url: str, body: dict, clients: int, seconds: float) -> dict:
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    statuses: dict[str, int] = {}
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=url, timeout=120.0, limits=limits) as client:

        async def one_client() -> None:
            while time.monotonic() < stop_at:
                start = time.perf_counter()
                try:
                    response = await client.post("/api/trajectories", json=body)
                except httpx.HTTPError as error:
                    errors.append(type(error).__name__)
                    continue
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200:
                    errors.append(f"HTTP {response.status_code}")
                    continue
                for run in response.json()["runs"]:
                    statuses[run["status"]] = statuses.get(run["status"], 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "elapsed": elapsed,
        "latencies": latencies,
        "statuses": statuses,
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def render(figures: dict, args) -> str:
    idle, load = figures["idle"], figures["load"]
    rate = load["requests"] / load["elapsed"]
    lines = [
        SECTION,
        "",
        "The page's default request (`POST /api/trajectories`: six optimisers with the page's "
        "defaults, 500 steps, on Rosenbrock from its start) against a real uvicorn (one process, "
        "`chainrule hiker`) on loopback; the clients (httpx) run in another process.",
        "",
        f"Measured {DATE} on {figures['machine']} with "
        f"`python -m benchmarks.load_hiker --seconds {args.seconds:g} --clients {args.clients}`. "
        "Caveat: the machine's 2 cores were shared with other jobs during the run (the load "
        f"average was {figures['load_average']} when it began), and the clients take CPU "
        "from the server too: the figures are an upper bound of what an idle machine gives.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| CPU time of one default request in-process, best of 5 (runs + JSON) | "
        f"{_ms(figures['cpu']['hiker'])} |",
        f"| the same six runs by `cr.descend` one after another (before the side-by-side "
        f"path), best of 2 | {_ms(figures['cpu']['descend'])} |",
        f"| one request at a time over HTTP: p50 latency ({len(idle)} requests) | "
        f"{_ms(percentile(idle, 50))} |",
        f"| one request at a time: p99 latency | {_ms(percentile(idle, 99))} |",
        f"| {args.clients} concurrent clients for {args.seconds:g} s: requests answered | "
        f"{load['requests']} |",
        f"| errors (non-200 or failed connections) | {load['errors']} |",
        f"| requests per second | {rate:.1f} |",
        f"| latency under load: p50 | {_ms(percentile(load['latencies'], 50))} |",
        f"| latency under load: p99 | {_ms(percentile(load['latencies'], 99))} |",
        "",
        "Run statuses under load: "
        + ", ".join(f"{k} {v}" for k, v in sorted(load["statuses"].items()))
        + " (a `time_limit` would mean a run cut by the 5 s per-request limit).",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    """Put the "Hiker load" section into results.json (with the workloads' figures, where
    ``python -m benchmarks`` finds it again) and rewrite RESULTS.md from it, both atomically."""
    results = harness.load_results(RESULTS_JSON)
    results.setdefault(harness.SECTIONS, {})[SECTION.removeprefix("## ")] = text
    harness.write_atomically(RESULTS_JSON, json.dumps(results, indent=1) + "\n")
    harness.write_atomically(RESULTS_MD, harness.render_markdown(results))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the load (30)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--idle", type=int, default=40, help="requests one at a time (40)")
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md")
    args = parser.parse_args(argv)

    import httpx

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    load_average = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    server = start_server(port)
    try:
        wait_until_up(url)
        with httpx.Client(base_url=url) as client:
            body = default_request(client)
        idle = idle_latencies(url, body, args.idle)
        print(f"idle: p50 {_ms(percentile(idle, 50))}, p99 {_ms(percentile(idle, 99))}")
        load = asyncio.run(_load(url, body, args.clients, args.seconds))
    finally:
        server.terminate()
        server.wait(timeout=30)
    figures = {
        "idle": idle,
        "load": load,
        "load_average": load_average,
        "cpu": cpu_times(body),
        "machine": f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores), "
        f"Python {platform.python_version()}",
    }
    text = render(figures, args)
    print(text)
    summary = {k: v for k, v in load.items() if k != "latencies"}
    print(json.dumps(summary))
    if not args.no_write:
        write_section(text)
        print(f"wrote {RESULTS_MD}")
    return 0 if load["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
