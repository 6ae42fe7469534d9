"""Benchmark (not a test): how close the conv generators' training steps get to this CPU's matmul peak.

1. Measured fp32 matmul GFLOP/s (square ``torch.mm``, the best a BLAS does here) for 1 and N threads.
2. For each conv generator at its default batch size: FLOPs of one training step counted with
   ``torch.utils.flop_counter.FlopCounterMode`` (forward + backward of every update in the step),
   divided by the measured step time = achieved GFLOP/s, and its share of the matmul peak.
3. Variants side by side in the same run: threads (1 vs all), memory format (our default
   channels-last vs contiguous NCHW), batch size, and ``torch.compile`` (skipped with a note when it
   cannot build here). The variants are timed round-robin (interleaved), so noise hits all alike.

    .venv/bin/python bench/flops.py [--generators dcgan,vae,wgan_gp] [--steps 30] [--no-compile]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode, flop_registry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from synth_core.data import load_dataset  # noqa: E402
from synth_core.generators import get_generator  # noqa: E402

CONV_NETS = ("G_", "D_", "net_")  # attributes holding the conv modules of our generators


def matmul_gflops(n: int = 1024, reps: int = 20) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


def make(name: str, params: dict, contiguous: bool, compile_: bool):
    """The generator set up on MNIST; ``contiguous``: its conv nets back in the default (NCHW) memory
    format, i.e. without the channels-last layout our conv generators use since this benchmark."""
    ds = load_dataset("mnist")
    gen = get_generator(name)(**params).setup(ds, seed=0)
    if contiguous:
        for attr in CONV_NETS:
            if hasattr(gen, attr):
                getattr(gen, attr).to(memory_format=torch.contiguous_format)
    if compile_:
        for attr in CONV_NETS:
            if hasattr(gen, attr):
                setattr(gen, attr, torch.compile(getattr(gen, attr)))
    return gen


class _RegistryCounter(TorchDispatchMode):
    """FLOPs of every op ``torch.utils.flop_counter`` knows, without FlopCounterMode's module tracker
    (whose hooks refuse ``autograd.grad``, i.e. WGAN-GP's gradient penalty)."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        count = flop_registry.get(func._overloadpacket)
        if count is not None:
            self.total += count(*args, **kwargs, out_val=out)
        return out


def step_flops(gen) -> int:
    try:
        with FlopCounterMode(display=False) as fc:
            gen.train_step()
        return fc.get_total_flops()
    except RuntimeError:
        with _RegistryCounter() as rc:
            gen.train_step()
        return rc.total


def interleaved_times(gens: list[tuple[object, int]], steps: int, rounds: int = 5) -> list[float]:
    """Median seconds per step of each (generator, threads), timed round-robin: every round runs
    ``steps // rounds`` steps of each variant in turn, so a noisy neighbour or a clock change hits
    all variants alike (these machines are noisy; back-to-back blocks were not comparable)."""
    per = max(1, steps // rounds)
    for gen, threads in gens:  # warm-up
        torch.set_num_threads(threads)
        for _ in range(3):
            gen.train_step()
    samples: list[list[float]] = [[] for _ in gens]
    for _ in range(rounds):
        for k, (gen, threads) in enumerate(gens):
            torch.set_num_threads(threads)
            t = time.perf_counter()
            for _ in range(per):
                gen.train_step()
            samples[k].append((time.perf_counter() - t) / per)
    return [sorted(v)[len(v) // 2] for v in samples]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--generators", default="dcgan,vae,wgan_gp")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--no-compile", action="store_true")
    args = ap.parse_args(argv)
    n_threads = os.cpu_count() or 1
    peaks = {}
    for t in sorted({1, n_threads}):
        torch.set_num_threads(t)
        peaks[t] = matmul_gflops()
    print(f"matmul peak: " + ", ".join(f"{t} thread(s) {g:.1f} GFLOP/s" for t, g in peaks.items()), flush=True)
    rows = []
    for name in args.generators.split(","):
        cls = get_generator(name)
        bs = dict((p.name, p.default) for p in cls.params_for("image")).get("batch_size", 64)
        base = {"arch": "conv"} if any(p.name == "arch" for p in cls.params) else {}
        variants = [("default", n_threads, {}, False, False), ("1 thread", 1, {}, False, False),
                    ("NCHW (contiguous)", n_threads, {}, True, False),
                    (f"batch {bs * 2}", n_threads, {"batch_size": bs * 2}, False, False),
                    (f"batch {bs // 2}", n_threads, {"batch_size": max(8, bs // 2)}, False, False)]
        if not args.no_compile:
            variants.append(("torch.compile", n_threads, {}, False, True))
        built = []  # (label, threads, generator, flops) of the variants that could be built
        for label, threads, extra, cl, comp in variants:
            torch.set_num_threads(threads)
            try:
                gen = make(name, {**base, **extra}, cl, comp)
                gen.train_step()  # torch.compile builds here
                flops = step_flops(make(name, {**base, **extra}, cl, False))
            except Exception as exc:  # noqa: BLE001 - e.g. torch.compile without a C++ toolchain
                rows.append((name, label, threads, None, None, None, None, f"{type(exc).__name__}: {str(exc)[:60]}"))
                print(f"{name} {label}: failed: {exc!s:.200}", file=sys.stderr, flush=True)
                continue
            built.append((label, threads, gen, flops))
        times = interleaved_times([(gen, threads) for _, threads, gen, _ in built], args.steps)
        for (label, threads, gen, flops), sec in zip(built, times):
            gf = flops / sec / 1e9
            bsz = gen.hparams.get("batch_size", bs)
            rows.append((name, label, threads, flops / 1e9, sec * 1e3, gf, bsz / sec, f"{gf / peaks[threads]:.0%}"))
            print(f"{name} {label}: {flops / 1e9:.2f} GFLOP/step, {sec * 1e3:.1f} ms, {gf:.1f} GFLOP/s", file=sys.stderr, flush=True)
    torch.set_num_threads(n_threads)
    print(f"\n| generator | variant | threads | GFLOP/step | ms/step | GFLOP/s | samples/s | of matmul peak |")
    print("|---|---|---|---|---|---|---|---|")
    for name, label, threads, gfl, ms, gf, sps, share in rows:
        if gfl is None:
            print(f"| {name} | {label} | {threads} | | | | | {share} |")
        else:
            print(f"| {name} | {label} | {threads} | {gfl:.3f} | {ms:.1f} | {gf:.1f} | {sps:.0f} | {share} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
