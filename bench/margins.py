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
            mc = mode_coverage(g.sample(2000, seed=1), ds.modes.centres, ds.modes.std)
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


def case_wgan_ring(seed: int) -> dict[str, float]:
    """tests/test_gen_wgan_gp.py::test_wgan_gp_ring8_covers_every_mode_with_its_points_defaults (8 modes,
    HQ >= 0.70 at RING_STEPS); earlier snapshots are recorded to see the trend."""
    from synth_core.data import load_dataset
    from synth_core.generators import get_generator
    from tests.test_gen_wgan_gp import RING_STEPS

    at = [RING_STEPS - 1000, RING_STEPS - 500, RING_STEPS]
    snaps = _ring(get_generator("wgan_gp")().setup(load_dataset("ring8"), seed=seed), RING_STEPS, at)
    out = {f"hq@{s}": h for s, (_, h) in zip(at, snaps)}
    return {"modes(==8)": snaps[-1][0], "hq(>=0.70)": snaps[-1][1], **out}


def _class_accuracy(name: str, steps: int, seed: int) -> dict[str, float]:
    import numpy as np

    from synth_core.data import load_dataset
    from synth_core.generators import get_generator
    from tests.test_gen_cgan import class_accuracy

    ds = load_dataset("digits")
    g = get_generator(name)().setup(ds, seed=seed)
    for _ in range(steps):
        g.train_step()
    acc = class_accuracy(g, ds)
    return {"mean_acc(>=0.9)": float(np.mean(acc)), "worst_class": min(acc)}


def case_cgan(seed: int) -> dict[str, float]:
    """tests/test_gen_cgan.py::test_cgan_digits_generates_the_requested_class (mean class accuracy >= 0.9)."""
    from tests.test_gen_cgan import CGAN_STEPS

    return _class_accuracy("cgan", CGAN_STEPS, seed)


def case_cvae(seed: int) -> dict[str, float]:
    """tests/test_gen_cvae.py::test_cvae_digits_generates_the_requested_class (mean class accuracy >= 0.9)."""
    from tests.test_gen_cvae import CVAE_STEPS

    return _class_accuracy("cvae", CVAE_STEPS, seed)


def case_dcgan(seed: int) -> dict[str, float]:
    """tests/test_gen_dcgan.py::test_learns_the_mean_digit_on_8x8_digits (corr > 0.85 and > before, spread > 0.1)."""
    from tests.test_gen_dcgan import mean_digit

    before, after, spread = mean_digit(seed)
    return {"before": before, "after(>0.85)": after, "spread(>0.1)": spread}


def case_tvae(seed: int) -> dict[str, float]:
    """tests/test_gen_tvae.py (module fixture ``trained``, then the tests in file order): ELBO drop > 20 and
    KL > 0.5 at step STEPS + 1, 'score' missing share 0.02..0.25, red/green share error < 0.12, blue 0.01..0.15."""
    from tests.test_gen_ctgan import small_table
    from tests.test_gen_tvae import train_tvae

    ds, df = small_table()
    g = train_tvae(ds, seed)
    last = g.train_step()
    out = ds.decode(*g.sample_with_labels(1000, seed=1))
    share = ds.decode(g.sample(3000, seed=2)).color.value_counts(normalize=True)
    real = df.color.value_counts(normalize=True)
    return {"neg_elbo_drop(>20)": g.first_losses["neg_elbo"] - last["neg_elbo"], "kl(>0.5)": last["kl"],
            "missing(0.02..0.25)": float(out.score.isna().mean()),
            "marginal_err(<0.12)": max(abs(share.get(v, 0.0) - real[v]) for v in ("red", "green")),
            "blue(0.01..0.15)": float(share.get("blue", 0.0))}


def case_realnvp(seed: int) -> dict[str, float]:
    """tests/test_gen_realnvp.py::test_ring8_likelihood_beats_a_gaussian_quickly: ring8 held-out NLL after
    NLL_STEPS (< 1.0)."""
    from synth_core.data import load_dataset
    from synth_core.generators.realnvp import RealNVP
    from tests.test_gen_realnvp import NLL_STEPS

    ds = load_dataset("ring8")
    train, held = ds.subset(8000, seed=0), ds.subset(2000, seed=1)
    g = RealNVP(width=64, batch_size=256).setup(train, seed=seed)
    for _ in range(NLL_STEPS):
        g.train_step()
    return {"ring_held_nll(<1.0)": float(-g.log_prob(held.x).mean())}


def case_realnvp_tab(seed: int) -> dict[str, float]:
    """tests/test_gen_realnvp.py::test_train_step_reports_likelihood_and_improves_it: the reported NLL equals
    log_prob on the step's own batch (|gap| < 1e-4); 62 steps lower the table's NLL by more than 0.2."""
    from synth_core.generators.realnvp import RealNVP
    from tests.conftest import tiny_tabular
    from tests.test_gen_realnvp import next_batch, table_nll_at_init

    ds = tiny_tabular(labelled=False)
    g = RealNVP(width=32, batch_size=128, base="normal").setup(ds, seed=seed)
    for _ in range(61):
        g.train_step()
    want = float(-g.log_prob(next_batch(g)).mean())
    gap = abs(g.train_step()["nll"] - want)
    before, after = table_nll_at_init(ds, seed), float(-g.log_prob(ds.x).mean())
    return {"batch_gap(<1e-4)": gap, "before": before, "after": after, "drop(>0.2)": before - after}


def case_conditional(seed: int) -> dict[str, float]:
    """tests/test_conditional.py: after 20 steps the share of CTGAN's label-conditioned rows with sex=female and
    of TVAE's rows with risk=medium (rejection sampling gives up below ~0.1% with its 100,000-sample budget)."""
    from synth_core.data import load_dataset
    from synth_core.train.conditional import matches, parse_where
    from tests.test_conditional import short_run

    ds = load_dataset("patients")
    ct, tv = short_run("ctgan", ds, seed), short_run("tvae", ds, seed)
    x, y = ct.sample_with_labels(5000, condition=ds.classes.index("low"), seed=3)
    female = matches(x, y, ds, parse_where("sex=female", ds)).mean()
    x, y = tv.sample_with_labels(5000, seed=0)
    return {"ctgan_female|low(>0.001)": float(female),
            "tvae_medium(>0.0005)": float(matches(x, y, ds, parse_where("risk=medium", ds)).mean())}


def case_mcmc(seed: int) -> dict[str, float]:
    """tests/test_gen_mcmc.py: ring coverage (8 modes, HQ >= 0.7) for MALA, MH and the KDE target; acceptance within
    0.12 of its target; moments of a fitted Gaussian (errors as a share of their tolerance, < 1) and ESS."""
    import numpy as np

    from synth_core.data import Dataset, load_dataset
    from synth_core.metrics import mode_coverage
    from tests.test_gen_mcmc import _run

    out: dict[str, float] = {}
    ring = load_dataset("ring8")
    modes, std = ring.modes.centres, ring.modes.std
    ds = ring.subset(3000, seed=0)
    for method, target in (("mala", 0.574), ("mh", 0.234)):
        g, losses = _run(ds, 30, seed=seed, method=method)
        cov = mode_coverage(g.sample(1000, seed=0), modes, std)
        out[f"{method}_modes(==8)"], out[f"{method}_hq(>=0.7)"] = cov.modes_covered, cov.high_quality
        out[f"{method}_acc_gap(<0.12)"] = abs(losses[-1]["acceptance_rate"] - target)
    g, _ = _run(ring.subset(2000, seed=0), 25, seed=seed, density="kde", method="mh", kde_points=1000, n_chains=48,
                burn_in=150)
    cov = mode_coverage(g.sample(1000, seed=0), modes, std)
    out["kde_modes(==8)"], out["kde_hq(>=0.7)"] = cov.modes_covered, cov.high_quality
    rng = np.random.default_rng(0)
    c = np.array([[1.0, 0.6, -0.3], [0.6, 2.0, 0.4], [-0.3, 0.4, 0.5]])
    blob = Dataset(name="blob", kind="tabular", x=rng.multivariate_normal([0.5, -1.0, 2.0], c, size=2000))
    for method, ess_min in (("mala", 400), ("mh", 100)):
        g, losses = _run(blob, 60, seed=seed, method=method, n_components=1, burn_in=100, thin=2)
        mu, chol = g.target_["means"][0].numpy(), g.target_["scale"][0].numpy()
        pool = g.pool_.numpy()
        sd = np.sqrt(np.diag(chol @ chol.T)).max()
        out[f"{method}_mean_err/tol(<1)"] = float(np.abs(pool.mean(0) - mu).max() / (0.12 * sd))
        out[f"{method}_cov_err/tol(<1)"] = float(np.abs(np.cov(pool.T) - chol @ chol.T).max() / (0.15 * sd ** 2))
        out[f"{method}_ess(>{ess_min})"] = losses[-1]["ess"]
    return out


def case_gmm(seed: int) -> dict[str, float]:
    """tests/test_gen_gmm.py: EM on the ring covers 8 modes, HQ >= 0.7, KL to uniform < 0.05; BIC picks K = 8."""
    import numpy as np

    from synth_core.data import load_dataset
    from synth_core.generators import get_generator
    from synth_core.metrics import mode_coverage
    from tests.test_gen_gmm import _ring_fit

    g, ds, _ = _ring_fit(seed=seed)
    cov = mode_coverage(g.sample(4000, seed=0), ds.modes.centres, ds.modes.std)
    b = get_generator("gmm")(k_selection="bic", k_max=9).setup(load_dataset("ring8").subset(1000, seed=0), seed=seed)
    b.train_step()
    return {"modes(==8)": cov.modes_covered, "hq(>=0.7)": cov.high_quality, "kl_uniform(<0.05)": cov.kl_to_uniform,
            "bic_k(==8)": len(b.params_["weights"])}


def case_kde(seed: int) -> dict[str, float]:
    """tests/test_gen_kde.py: the CV bandwidth covers the ring (8 modes, HQ >= 0.7, bandwidth < 0.02), Scott's
    rule does not (HQ < 0.2); sample moments (errors as a share of their tolerance, < 1)."""
    import numpy as np

    from synth_core.data import Dataset
    from synth_core.generators import get_generator
    from tests.test_gen_kde import _ring

    cv, losses = _ring("cv", seed)
    scott, _ = _ring("scott", seed)
    rng = np.random.default_rng(1)
    x = rng.multivariate_normal([1.0, -2.0], [[1.0, 0.5], [0.5, 2.0]], size=3000)
    g = get_generator("kde")(max_points=1000).setup(Dataset(name="g", kind="tabular", x=x), seed=seed)
    g.train_step()
    s = g.sample(20_000, seed=seed).astype(np.float64)
    pts, h, sd = g.kde_["points"].numpy(), float(g.kde_["h"]), g.kde_["scale"].numpy()
    want = np.cov(pts.T, bias=True) + np.diag((h * sd) ** 2)
    return {"cv_modes(==8)": cv.modes_covered, "cv_hq(>=0.7)": cv.high_quality, "cv_bw(<0.02)": losses["bandwidth"],
            "scott_hq(<0.2)": scott.high_quality,
            "mean_err/tol(<1)": float(np.abs(s.mean(0) - pts.mean(0)).max() / 0.05),
            "cov_err/tol(<1)": float(np.abs(np.cov(s.T) - want).max() / 0.08)}


def case_closed(seed: int) -> dict[str, float]:
    """Closed-form fits (tests/test_gen_copula.py, test_gen_gaussian.py, test_gen_marginals.py): sampling noise
    only; each error as a share of its tolerance (< 1 passes), sample seeds shifted by ``seed`` as stat_seed does."""
    import numpy as np

    from synth_core.data import Dataset
    from synth_core.generators import get_generator
    from tests import test_gen_copula as C
    from tests import test_gen_marginals as M

    out: dict[str, float] = {}
    for name in ("copula", "gaussian"):
        mean, var, corr = C.moment_errors(name, seed)
        out[f"{name}_mean/tol"], out[f"{name}_var/tol"] = np.abs(mean).max() / 0.06, np.abs(var).max() / 0.08
        out[f"{name}_corr/tol"] = np.abs(corr).max() / 0.04
    rng = np.random.default_rng(1)
    z = rng.multivariate_normal([0, 0], [[1, 0.7], [0.7, 1]], size=3000)
    expo = -np.log1p(-np.clip(C._phi(z[:, 0]), 0, 1 - 1e-12))
    counts = np.digitize(z[:, 1], [-1, 0, 1])
    ds = Dataset(name="s", kind="tabular", x=np.stack([expo, counts], 1), feature_names=["t", "k"])
    s = C._fit("copula", ds, seed).sample(6000, seed=2 + seed).astype(np.float64)
    rank = lambda v: np.argsort(np.argsort(v))  # noqa: E731
    rho = lambda a, b: np.corrcoef(rank(a), rank(b))[0, 1]  # noqa: E731
    out["copula_skew/tol"] = max(abs(np.median(s[:, 0]) - np.log(2)) / 0.06,
                                 np.abs(np.bincount(s[:, 1].astype(int), minlength=4) / len(s)
                                        - np.bincount(counts, minlength=4) / len(counts)).max() / 0.025,
                                 abs(rho(s[:, 0], s[:, 1]) - rho(expo, counts)) / 0.06)
    base = C._fit("gaussian", ds, seed).sample(6000, seed=2 + seed)
    out["gaussian_skew_median_gap(>0.2)"] = abs(np.median(base[:, 0]) - np.log(2))
    t = M._table()
    g = get_generator("marginals")().setup(t, seed=seed)
    g.train_step()
    s, x = g.sample(4000, seed=1 + seed).astype(np.float64), t.x.astype(np.float64)
    out["marginals/tol"] = max(np.abs(s[:, :2].mean(0) - x[:, :2].mean(0)).max() / 0.1,
                               np.abs(s[:, :2].std(0) / x[:, :2].std(0) - 1).max() / 0.05,
                               np.abs(np.bincount(s[:, 2].astype(int), minlength=4) / len(s)
                                      - [0.1, 0.2, 0.3, 0.4]).max() / 0.03,
                               abs(np.corrcoef(s[:, 0], s[:, 1])[0, 1]) / 0.06)
    rules = "a in [4, 6]   # range\nkids in {1, 3}\nb = a * 2 + kids - abs(-1) + sqrt(4) ** 2 / 2"
    g = get_generator("marginals")(rules=rules, range_mode="resample").setup(t, seed=seed)
    g.train_step()
    k = g.sample(3000, seed=2 + seed)[:, 2]
    out["rules_kids1(0.28..0.39)"] = float((k == 1).mean())
    rng = np.random.default_rng(0)
    mean = np.array([1.0, -2.0, 0.5])
    cov = np.array([[2.0, 0.8, -0.4], [0.8, 1.0, 0.3], [-0.4, 0.3, 0.5]])
    g = get_generator("gaussian")(reg=1e-8).setup(Dataset(name="k", kind="tabular",
                                                          x=rng.multivariate_normal(mean, cov, size=20_000)), seed=seed)
    g.train_step()
    s = g.sample(50_000, seed=1 + seed).astype(np.float64)
    out["gaussian_known/tol"] = max(np.abs(s.mean(0) - mean).max() / 0.05, np.abs(np.cov(s.T) - cov).max() / 0.06)
    return {k: float(v) for k, v in out.items()}


def case_latent(seed: int) -> dict[str, float]:
    """tests/test_latent_views.py::test_2d_latent_map_of_a_vae: after 40 steps the 2-D latent map's corners
    differ (mean |difference| > 0.05)."""
    import numpy as np

    from synth_core.generators import get_generator
    from synth_core.viz import latent
    from tests.conftest import tiny_images

    gen = get_generator("vae")(z_dim=2, width=32, depth=1, batch_size=64, kl_warmup=0, lr=3e-3, arch="mlp")
    gen.setup(tiny_images(), seed=seed)
    for _ in range(40):
        gen.train_step()
    x = latent.decode_batched(gen.decode_latent, latent.latent_plane(10), batch=32)
    corners = x.reshape(10, 10, -1)[[0, 0, -1, -1], [0, -1, 0, -1]]
    return {"corner_diff(>0.05)": float(np.abs(corners[:, None] - corners[None]).mean())}


CASES = {"ctgan": case_ctgan, "arrows": case_arrows, "gan_ring": case_gan_ring, "vae": case_vae, "ddpm": case_ddpm,
         "wgan_ring": case_wgan_ring, "cgan": case_cgan, "cvae": case_cvae, "dcgan": case_dcgan, "tvae": case_tvae,
         "realnvp": case_realnvp, "realnvp_tab": case_realnvp_tab, "conditional": case_conditional, "mcmc": case_mcmc,
         "gmm": case_gmm, "kde": case_kde,
         "closed": case_closed, "latent": case_latent}



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
