"""Benchmark (not a test): Start -> first step on a running Ray cluster (issue 15's target: <= 3 s).

Starts a two-node cluster on 127.0.0.1 (head with no CPUs, one worker node with one CPU), connects
once (as a server does at its first run), then times ``JobManager.submit`` until the run's first
step, for a few runs one after another, and beside it the ``local`` executor on this machine.

    .venv/bin/python bench/ray_startup.py --reps 3
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # keep Ray on 127.0.0.1
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from synth_core.train import RunConfig  # noqa: E402
from synth_core.train.manager import JobManager  # noqa: E402

CFG = dict(dataset="ring8", generator="gan", params={"width": 16}, steps=100_000)


def _first_step(mgr: JobManager, seed: int) -> float:
    t0 = time.perf_counter()
    run = mgr.submit(RunConfig(**CFG, seed=seed))
    deadline = time.time() + 300
    while run.step < 1:
        if time.time() > deadline or run.status.final:
            raise RuntimeError(f"run did not start: {run.status} {run.error}")
        time.sleep(0.01)
    dt = time.perf_counter() - t0
    run.stop()
    run.join(120)
    return dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    from ray._private import ray_constants
    from ray.cluster_utils import Cluster

    ray_constants.ENABLE_RAY_CLUSTER = False
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "node_ip_address": "127.0.0.1",
                                                            "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1", include_dashboard=False)
        cluster.wait_for_nodes()
        with tempfile.TemporaryDirectory() as tmp:
            ray_mgr = JobManager(Path(tmp) / "ray", executor="ray", ray_address=cluster.address, reattach=False)
            local_mgr = JobManager(Path(tmp) / "local", executor="local")
            _first_step(ray_mgr, 100)  # the connection and the first actor's imports: a server's first run
            time.sleep(10)  # the local executor's spare warms up meanwhile
            times: dict[str, list[float]] = {"ray": [], "local": []}
            for rep in range(args.reps):
                for name, mgr in (("ray", ray_mgr), ("local", local_mgr)):
                    times[name].append(_first_step(mgr, rep))
                    print(f"rep {rep + 1} {name:5s} {times[name][-1]:.2f} s", file=sys.stderr, flush=True)
                    time.sleep(5)
    finally:
        import ray
        ray.shutdown()
        cluster.shutdown()
    print(f"\nStart -> first step, GAN on ring8, median of {args.reps} (after one warm-up run)\n")
    print("| executor | seconds | target |")
    print("|---|---|---|")
    print(f"| ray (running cluster, 2 nodes on 127.0.0.1) | {statistics.median(times['ray']):.2f} | <= 3 |")
    print(f"| local (warm spare) | {statistics.median(times['local']):.2f} | <= 2 |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
