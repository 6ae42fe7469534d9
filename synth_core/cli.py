"""``synthlab`` command line: train | sample | runs | datasets | generators.

Generator hyperparameters become flags automatically from their ``Param`` specs
(``synthlab train --generator dcgan --help`` lists them). User errors print one line and exit 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from .errors import SynthLabError
from .viz.text import format_rate, format_seconds


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _help(text: str) -> str:
    """Help text for argparse, which %-formats it: a literal % (e.g. "20%") must be doubled."""
    return text.replace("%", "%%")


class ProgressBar:
    """A one-line progress bar on stderr: steps, steps/s, ETA and the latest losses."""

    def __init__(self, total: int, stream=sys.stderr, width: int = 28) -> None:
        self.total, self.stream, self.width = total, stream, width
        self.last = 0.0
        self.tty = stream.isatty()

    def update(self, step: int, losses: dict[str, float], force: bool = False, *,
               speed: tuple[float, float | None] = (0.0, None)) -> None:
        """``speed``: the run's own (steps/s, ETA) from ``Run.speed()``, the numbers the app shows."""
        now = time.time()
        if not force and now - self.last < (0.2 if self.tty else 5.0):
            return
        self.last = now
        rate, eta = speed
        filled = int(self.width * step / max(self.total, 1))
        bar = "#" * filled + "." * (self.width - filled)
        loss_txt = " ".join(f"{k}={v:.4g}" for k, v in list(losses.items())[:4])
        line = f"[{bar}] {step}/{self.total} {format_rate(rate)} ETA {format_seconds(eta)} {loss_txt}"
        self.stream.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _default_text(gen_cls, p) -> str:
    """``default: X``, then each data kind's own default where ``kind_defaults`` changes it."""
    kinds = [f"on {kind} data: {over[p.name]}" for kind, over in sorted(gen_cls.kind_defaults.items())
             if p.name in over]
    return "; ".join([f"default: {p.default}", *kinds])


def _add_param_flags(parser: argparse.ArgumentParser, gen_cls) -> None:
    group = parser.add_argument_group(
        f"{gen_cls.name} hyperparameters",
        "Defaults can depend on the data kind (points, tabular, image); each flag lists them." if gen_cls.kind_defaults
        else None)
    for p in gen_cls.params:
        kwargs: dict[str, Any] = {"dest": f"param_{p.name}", "default": None}
        if p.type == "choice":
            kwargs["choices"] = [str(c) for c in p.choices]
        elif p.type == "bool":
            kwargs["metavar"] = "true|false"
        else:
            kwargs["type"] = int if p.type == "int" else float
        group.add_argument(_flag(p.name), help=_help(f"{p.help} ({_default_text(gen_cls, p)})"), **kwargs)


def cmd_train(argv: Sequence[str]) -> int:
    from .data.holdout import HOLDOUT, HOLDOUT_SEED
    from .generators import get_generator, list_generators
    from .train import Event, Run, RunConfig
    from .train.store import upgrade_config

    base = argparse.ArgumentParser(prog="synthlab train", add_help=False)
    base.add_argument("--generator", "-g", default="dcgan")
    base.add_argument("--config", type=Path)
    known, _ = base.parse_known_args(argv)
    file_cfg: dict[str, Any] = {}
    if known.config:
        try:
            file_cfg = json.loads(known.config.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise SynthLabError(f"Cannot read config {known.config}: {exc}") from None
        if not isinstance(file_cfg, dict):
            raise SynthLabError(f"Cannot read config {known.config}: not a JSON object")
        file_cfg = upgrade_config(file_cfg)  # a config saved before a Param was renamed
    gen_name = file_cfg.get("generator", known.generator) if "--generator" not in argv and "-g" not in argv else known.generator
    gen_cls = get_generator(gen_name)

    parser = argparse.ArgumentParser(prog="synthlab train", description="Train a generator and write a run folder.")
    parser.add_argument("--dataset", "-d", default=None, help="dataset name (synthlab datasets); default mnist")
    parser.add_argument("--data", type=Path, default=None, metavar="PATH",
                        help="your own file instead of --dataset: CSV/TSV, Parquet, NPZ/NPY or a ZIP of images "
                             "(saved under $SYNTHLAB_DATA_DIR/uploads, reusable by name)")
    parser.add_argument("--label", default=None, help="with --data (tables): the label/target column")
    parser.add_argument("--image-side", type=int, default=28, help="with --data (image ZIP): square side in pixels")
    parser.add_argument("--color", choices=["auto", "grayscale", "rgb"], default="auto",
                        help="with --data (image ZIP): colour mode")
    parser.add_argument("--generator", "-g", default=gen_name,
                        help=f"one of: {', '.join(g.name for g in list_generators())}")
    parser.add_argument("--config", type=Path, help="replay a run's config.json (flags given here override it)")
    parser.add_argument("--steps", type=int, default=None, help=f"training steps (default for {gen_name}: {gen_cls.default_steps})")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--device", default=None, help="auto | cpu | cuda | mps (default auto)")
    parser.add_argument("--sample-every", type=int, default=None, help="steps between sample snapshots")
    parser.add_argument("--checkpoint-every", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="runs folder (default ./runs or $SYNTHLAB_RUNS_DIR)")
    parser.add_argument("--run-id", default=None)
    parser.add_argument(_flag(HOLDOUT.name), type=float, default=None, metavar="FRACTION",
                        help=_help(f"{HOLDOUT.help} (default: {HOLDOUT.default} where that applies, else 0)"))
    parser.add_argument("--ray-address", default=None, metavar="HOST:PORT",
                        help="train on this Ray cluster (an actor placed by Ray; the runs folder must be storage "
                             "every node shares); default $SYNTHLAB_RAY_ADDRESS")
    parser.add_argument("--quiet", "-q", action="store_true")
    _add_param_flags(parser, gen_cls)
    args = parser.parse_args(argv)

    params = dict(file_cfg.get("params", {})) if file_cfg.get("generator", gen_name) == gen_name else {}
    for p in gen_cls.params:
        v = getattr(args, f"param_{p.name}")
        if v is not None:
            params[p.name] = v
    pick = lambda flag, key, default: flag if flag is not None else file_cfg.get(key, default)  # noqa: E731
    if args.data is not None:
        if args.dataset is not None:
            raise SynthLabError("use either --dataset (a registered name) or --data (a file), not both")
        from .data.user_data import save_upload_file

        upload = save_upload_file(args.data, {"label": args.label, "image_side": args.image_side,
                                              "color": args.color})
        args.dataset = upload.name
        if not args.quiet:
            from .data import load_dataset

            print(f"data {args.data.name} -> dataset {upload.name} ({upload.kind})", file=sys.stderr)
            for w in load_dataset(upload.name).warnings:
                print(f"warning: {w}", file=sys.stderr)
    elif args.label is not None:
        raise SynthLabError("--label goes with --data (a file); built-in datasets have their labels already")
    config = RunConfig(
        dataset=pick(args.dataset, "dataset", "mnist"), generator=gen_name, params=params,
        steps=pick(args.steps, "steps", None), seed=pick(args.seed, "seed", 0),
        device=pick(args.device, "device", "auto"), sample_every=pick(args.sample_every, "sample_every", None),
        checkpoint_every=pick(args.checkpoint_every, "checkpoint_every", 500), run_id=args.run_id,
        holdout=pick(args.holdout, "holdout", None), holdout_seed=file_cfg.get("holdout_seed", HOLDOUT_SEED),
    )
    from .train.manager import default_executor
    from .train.store import runs_root

    ray_address = args.ray_address or (os.environ.get("SYNTHLAB_RAY_ADDRESS") if default_executor() == "ray" else None)
    if ray_address:
        return _train_on_ray(config, args.out or runs_root(), ray_address, quiet=args.quiet)
    run = Run(config, args.out or runs_root())
    if not args.quiet:
        print(f"run {run.id}: {gen_cls.label} on {run.config.dataset}, {run.config.steps} steps -> {run.path}",
              file=sys.stderr)
    return _train_in_foreground(run, quiet=args.quiet)


def _train_in_foreground(run: Run, *, quiet: bool) -> int:
    """Train ``run`` with a progress bar (from the step it starts at); Ctrl-C stops it cleanly with a
    final checkpoint. Prints the outcome as JSON; a failed run is exit status 2."""
    done = run.resumed_from
    bar = ProgressBar(run.config.steps - done, stream=sys.stderr)

    def on_event(ev: Event) -> None:
        if not quiet and ev.type == "step":
            bar.update(ev.step - done, ev.data["losses"], force=ev.step == run.config.steps, speed=run.speed())

    run.add_listener(on_event)
    run.start()
    try:
        while not run.join(0.2):
            pass
    except KeyboardInterrupt:
        print("\nstopping (writing a final checkpoint)...", file=sys.stderr)
        run.stop()
        run.join()
    bar.close()
    return _outcome(run, done)


def _train_on_ray(config: RunConfig, root: Path, address: str, *, quiet: bool) -> int:
    """``synthlab train --ray-address``: the run trains in an actor on the cluster; this follows its
    snapshots with the same progress bar and prints the same outcome. Ctrl-C stops it (final checkpoint)."""
    from .generators import get_generator
    from .train import RunStatus
    from .train.manager import JobManager

    manager = JobManager(root, executor="ray", ray_address=address, reattach=False)
    run = manager.submit(config)
    if not quiet:
        print(f"run {run.id}: {get_generator(run.config.generator).label} on {run.config.dataset}, "
              f"{run.config.steps} steps -> {run.path} (Ray cluster {address})", file=sys.stderr)
    done = run.resumed_from
    bar = ProgressBar(run.config.steps - done, stream=sys.stderr)
    ended = lambda: RunStatus(run.snapshot().status).final  # noqa: E731
    try:
        while not ended():  # polled, not run.join(): a Ctrl-C inside Thread.join breaks the thread's state
            snap = run.snapshot()
            if not quiet and snap.step > done:
                bar.update(snap.step - done, snap.last_losses, force=snap.step == run.config.steps,
                           speed=(snap.steps_per_s, snap.eta_s))
            time.sleep(0.25)
    except KeyboardInterrupt:
        print("\nstopping (writing a final checkpoint)...", file=sys.stderr)
        run.stop()
        while not ended():
            time.sleep(0.25)
    run.join()  # the proxy lets the actor go
    snap = run.snapshot()
    if not quiet and snap.step > done:
        bar.update(snap.step - done, snap.last_losses, force=True, speed=(snap.steps_per_s, snap.eta_s))
    bar.close()
    return _outcome(run, done)


def _outcome(run: Run, done: int) -> int:
    """The run's outcome as JSON on stdout; a failed run is an error line and exit status 2."""
    from .train import RunStatus

    snap = run.snapshot()
    if snap.status == RunStatus.FAILED:
        print(f"error: run failed: {snap.error}", file=sys.stderr)
        return 2
    out = {"run_id": run.id, "status": RunStatus(snap.status).value, "step": snap.step, "path": str(run.path),
           "losses": snap.last_losses}
    if done:
        out["resumed_from"] = done
    print(json.dumps(out))
    return 0


def cmd_sample(argv: Sequence[str]) -> int:
    from .train import load_generator

    parser = argparse.ArgumentParser(prog="synthlab sample", description="Draw samples from a trained run.")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--condition", type=int, default=None, help="class index (conditional generators)")
    parser.add_argument("--where", default=None, metavar="COL=VALUE[, ...]",
                        help='tables: only rows with these values, e.g. "sex=F" or "sex=F, smoker=yes"')
    parser.add_argument("--out", "-o", type=Path, required=True,
                        help="output .npz (x in the user's space, and y) or .csv (points and tables)")
    args = parser.parse_args(argv)
    if not 1 <= args.n <= 1_000_000:
        raise SynthLabError("-n must be between 1 and 1,000,000")
    if args.where is not None and args.condition is not None:
        raise SynthLabError("use either --condition (a class index) or --where, not both")
    from .train.export import draw_labelled, samples_csv, samples_npz

    gen, config, ds = load_generator(args.run_dir)
    if args.where is not None:
        from .train.conditional import parse_where, sample_where_labelled

        x, y = sample_where_labelled(gen, ds, args.n, parse_where(args.where, ds), seed=args.seed)
    else:
        x, y = draw_labelled(gen, args.n, seed=args.seed, condition=args.condition)
    if args.out.suffix.lower() == ".csv":
        if ds.kind == "image":
            raise SynthLabError("images are written as .npz (uint8 pixels); use -o samples.npz")
        args.out.write_bytes(samples_csv(x, ds, y))
    else:
        args.out.write_bytes(samples_npz(x, ds, y))
    print(f"wrote {args.n} samples from {config.generator} on {config.dataset} to {args.out}")
    return 0


def cmd_evaluate(argv: Sequence[str]) -> int:
    from .train.evaluate import SAMPLE_RULE, evaluate_run

    parser = argparse.ArgumentParser(prog="synthlab evaluate",
                                     description="Quality report: a trained run's samples vs its real training "
                                                 f"rows and holdout ({SAMPLE_RULE}; the same report as the "
                                                 "app's Compare and Runs pages).")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0, as on the Runs page)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report as JSON")
    parser.add_argument("--html", type=Path, default=None, help="also write the report as self-contained HTML")
    args = parser.parse_args(argv)
    last = {"stage": None}

    def progress(stage: str, frac: float) -> None:
        if stage != last["stage"]:
            print(f"  {stage}...", file=sys.stderr, flush=True)
            last["stage"] = stage

    rep = evaluate_run(args.run_dir, seed=args.seed, progress=progress)  # saved beside the run
    print(rep.to_text())
    if args.json:
        args.json.write_text(json.dumps(rep.to_dict(), indent=2))
    if args.html:
        args.html.write_text(rep.to_html())
    return 0


def cmd_runs(argv: Sequence[str]) -> int:
    from .train import RunStatus, iter_runs, runs_root

    parser = argparse.ArgumentParser(prog="synthlab runs", description="List run folders.")
    parser.add_argument("--out", type=Path, default=None, help="runs folder (default ./runs)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    root = args.out or runs_root()
    rows = []
    for rec in iter_runs(root):
        status = rec.status
        state = status.get("status", "?")
        if RunStatus.parse(state).live:
            state = "interrupted?"  # no live server owns it from the CLI's point of view
        rows.append({"run_id": rec.run_id, "generator": rec.config.get("generator"), "dataset": rec.config.get("dataset"),
                     "status": state, "step": f"{status.get('step', 0)}/{status.get('total', rec.config.get('steps'))}",
                     "samples": len(rec.sample_files())})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no runs in {root}")
        return 0
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r[c]).ljust(widths[c]) for c in cols))
    return 0


def cmd_continue(argv: Sequence[str]) -> int:
    """``synthlab continue RUN_DIR_OR_ID [--steps N]``: train a stopped, finished or interrupted run on
    from its last checkpoint, in the same run folder (curves and samples go on)."""
    from .train import Event, Run
    from .train.store import RunFolder, runs_root, validate_run_id

    parser = argparse.ArgumentParser(prog="synthlab continue",
                                     description="Continue a stopped, finished or interrupted run from its last "
                                                 "checkpoint, in the same run folder.")
    parser.add_argument("run", help="a run folder (runs/<id>) or a run id in --out")
    parser.add_argument("--steps", type=int, default=None,
                        help="total steps to reach (default: the planned total, or twice the steps done if it finished)")
    parser.add_argument("--out", type=Path, default=None, help="runs folder for a run id (default ./runs or $SYNTHLAB_RUNS_DIR)")
    parser.add_argument("--quiet", "-q", action="store_true")
    args = parser.parse_args(argv)
    folder = Path(args.run)
    if RunFolder(folder).exists():  # a run folder, as `synthlab sample` takes
        root, run_id = folder.resolve().parent, folder.resolve().name
    else:  # a run id: a plain name, never a path
        root, run_id = args.out or runs_root(), validate_run_id(args.run)
    run = Run.continue_from(run_id, root, steps=args.steps)
    if not args.quiet:
        print(f"run {run.id}: continuing {run.config.generator} on {run.config.dataset} from step "
              f"{run.resumed_from:,} to {run.config.steps:,} -> {run.path}", file=sys.stderr)
    return _train_in_foreground(run, quiet=args.quiet)


def cmd_datasets(argv: Sequence[str]) -> int:
    from .data import list_datasets
    from .data.user_data import saved_uploads, uploads_root

    argparse.ArgumentParser(prog="synthlab datasets").parse_args(argv)
    for d in list_datasets(uploads=False):
        print(f"{d.name:14s} {d.kind:8s} {d.description}{'' if d.offline else '  [needs files or network]'}")
    saved = saved_uploads()
    if saved:
        print(f"\nuploads ({uploads_root()}):")
        for u in saved:
            print(f"{u.name:14s} {u.kind:8s} {u.filename}: {u.description}")
    from .data.drawn import drawn_root, register_saved_drawings

    drawings = register_saved_drawings()
    if drawings:
        print(f"\ndrawings ({drawn_root()}):")
        for name in drawings:
            print(f"{name:14s} points   drawn on the Train page")
    return 0


def cmd_generators(argv: Sequence[str]) -> int:
    from .generators import list_generators
    from .params import param_table

    parser = argparse.ArgumentParser(prog="synthlab generators")
    parser.add_argument("--params", action="store_true", help="also list each generator's hyperparameters")
    args = parser.parse_args(argv)
    for g in list_generators():
        print(f"{g.name:12s} {g.family:14s} {', '.join(sorted(g.supports)):22s} {g.label}  [{g.paper}]")
        if args.params:
            for row in param_table(g.params):
                print(f"    {_flag(row['name']):18s} {row['type']:6s} default={row['default']!s:8s} {row['space']:22s} {row['help']}")
            for kind, over in g.kind_defaults.items():
                print(f"    defaults on {kind} data: " + ", ".join(f"{_flag(k)} {v}" for k, v in over.items()))
    return 0


COMMANDS = {"train": cmd_train, "sample": cmd_sample, "evaluate": cmd_evaluate, "runs": cmd_runs, "continue": cmd_continue, "datasets": cmd_datasets,
            "generators": cmd_generators}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: synthlab {" + ",".join(COMMANDS) + "} [options]\n\n"
              "  train       train a generator, writing runs/<id>/ (config, metrics, samples, checkpoint)\n"
              "  continue    train a stopped / finished / interrupted run on from its checkpoint\n"
              "  sample      draw samples from a trained run into an .npz\n"
              "  evaluate    quality report: real vs synthetic (--json / --html to save it)\n"
              "  runs        list run folders\n"
              "  datasets    list built-in datasets\n"
              "  generators  list generators (--params for their hyperparameters)", file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    try:
        return COMMANDS[argv[0]](argv[1:])
    except SynthLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
