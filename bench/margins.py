"""Margins of the statistical/training tests: each test's own computation over seeds and torch thread counts.

Float results differ between CPUs (AVX-512/AMX vs AMD) and thread counts, so a training test that passes
on one machine lands elsewhere on another. Seeds stand in for those other trajectories: a test holds with
margin when its worst value over several seeds and 1-2 threads stays clearly on the right side of its
threshold. Run one case per process (the thread count is set before any work):

    .venv/bin/python bench/margins.py ctgan --seeds 0 1 2 3 --threads 1 2
    .venv/bin/python bench/margins.py all --seeds 0 1 2 --threads 1

Each line prints the case, seed, threads and the values the test asserts on. The tests take their seeds
from tests/conftest.py:stat_seed (SYNTHLAB_TEST_SEED shifts them), and the cases import the tests'
constants and helpers, so both measure the same thing.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def case_ctgan(seed: int) -> dict[str, float]:
    """tests/test_gen_ctgan.py: marginals, column condition, size gap, label condition (thresholds in the test)."""
    from synth_core.generators import get_generator
    from tests.test_gen_ctgan import FAST, STEPS, small_table

    ds, df = small_table()
    g = get_generator("ctgan")(**FAST).setup(ds, seed=seed)
    for _ in range(STEPS):
        g.train_step()
    share = ds.decode(g.sample(3000, seed=2)).color.value_counts(normalize=True)
    real = df.color.value_counts(normalize=True)
    agree = []
    for level in ("blue", "red"):
        g.sample(500, condition={"color": level}, seed=3)
        agree.append(g.last_agreement_)
    blue = ds.decode(g.sample(500, condition={"color": "blue"}, seed=4))
    red = ds.decode(g.sample(500, condition={"color": "red"}, seed=4))
    big = ds.decode(*g.sample_with_labels(300, condition=ds.classes.index("big"), seed=5))
    small = ds.decode(*g.sample_with_labels(300, condition=ds.classes.index("small"), seed=5))
    return {"marginal_err(<0.15)": max(abs(share.get(v, 0.0) - real[v]) for v in ("red", "green")),
            "blue_share(0.01..0.2)": float(share.get("blue", 0.0)), "agreement(>0.8)": min(agree),
            "size_gap(>10)": float(blue["size"].mean() - red["size"].mean()),
            "big_share(>0.8)": float((big["size"] > 15).mean()), "small_share(<0.2)": float((small["size"] > 15).mean())}


def case_arrows(seed: int) -> dict[str, float]:
    """tests/test_gan_updates.py::test_arrows_point_toward_the_data_on_a_ring (share > 0.9, gain > 0.12)."""
    from tests.test_gan_updates import arrow_gain

    out = {}
    for name in ("gan", "wgan_gp"):
        share, gain = arrow_gain(name, seed)
        out[f"{name}_share(>0.9)"], out[f"{name}_gain(>0.12)"] = share, gain
    return out


def _ring(g, steps: int, at: list[int]) -> list[tuple[int, float]]:
    import numpy as np

    from synth_core.metrics import mode_coverage

    ds = g.dataset_
    out = []
    for step in range(1, steps + 1):
        g.train_step()
        if step in at:
            mc = mode_coverage(g.sample(2000, seed=1), np.array(ds.meta["modes"]), ds.meta["mode_std"])
            out.append((mc.modes_covered, mc.high_quality))
    return out


def case_vae(seed: int) -> dict[str, float]:
    """tests/test_gen_vae.py::test_vae_ring8_covers_all_modes (8 modes; mean HQ over the window >= 0.70)."""
    from synth_core.data import load_dataset
    from synth_core.generators import get_generator
    from tests.test_gen_vae import RING_STEPS, RING_WINDOW

    snaps = _ring(get_generator("vae")().setup(load_dataset("ring8"), seed=seed), RING_STEPS, list(RING_WINDOW))
    return {"min_modes(==8)": min(m for m, _ in snaps), "mean_hq(>=0.70)": sum(h for _, h in snaps) / len(snaps),
            "min_snapshot_hq": min(h for _, h in snaps)}


def case_ddpm(seed: int) -> dict[str, float]:
    """tests/test_gen_ddpm.py::test_ring8_covers_all_modes (8 modes, HQ >= 0.70)."""
    from synth_core.data import load_dataset
    from synth_core.generators.ddpm import DDPM
    from tests.test_gen_ddpm import RING_STEPS

    (modes, hq), = _ring(DDPM(batch_size=512, lr=2e-3).setup(load_dataset("ring8"), seed=seed), RING_STEPS, [RING_STEPS])
    return {"modes(==8)": modes, "hq(>=0.70)": hq}


def case_gan_ring(seed: int) -> dict[str, float]:
    """tests/test_gen_gan.py::test_gan_ring8_runs_and_reports_finite_numbers (ring error < 1.0 after 100 steps)."""
    import numpy as np

    from synth_core.data import load_dataset
    from synth_core.generators import get_generator

    g = get_generator("gan")().setup(load_dataset("ring8"), seed=seed)
    for _ in range(100):
        g.train_step()
    return {"ring_error(<1.0)": float(np.abs(np.linalg.norm(g.sample(2000, seed=1), axis=1) - 2.0).mean())}


CASES = {"ctgan": case_ctgan, "arrows": case_arrows, "gan_ring": case_gan_ring, "vae": case_vae, "ddpm": case_ddpm}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", choices=[*CASES, "all"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--one", nargs=2, type=int, metavar=("SEED", "THREADS"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:  # the child: one case, one seed, one thread count
        import torch

        torch.set_num_threads(a.one[1])
        sys.path.insert(0, str(ROOT))
        t = time.perf_counter()
        values = CASES[a.case](a.one[0])
        print(json.dumps({"case": a.case, "seed": a.one[0], "threads": a.one[1],
                          "seconds": round(time.perf_counter() - t, 1),
                          **{k: round(float(v), 4) for k, v in values.items()}}), flush=True)
        return
    for case in (CASES if a.case == "all" else [a.case]):
        for threads in a.threads:
            for seed in a.seeds:
                subprocess.run([sys.executable, __file__, case, "--one", str(seed), str(threads)], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
