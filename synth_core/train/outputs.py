"""What a training run shows and keeps: live sample previews, sample snapshots on disk (bounded) and
checkpoints. A mixin of :class:`~.run.Run`: it uses the run's generator, dataset, ``folder`` and locks."""
from __future__ import annotations

import time

from ..generators.parts import PREVIEW_SEED_OFFSET, preview_row
from ..viz.grid import image_grid, png_bytes, scatter_png
from .snapshot import Event

POINT_PREVIEW = 1000  # points drawn in each live scatter of a points dataset
#: sample snapshots kept on disk per run: the first, the newest and at most this many spread over the
#: run (past it the snapshot stride doubles and every other file goes, like ``LossHistory``)
MAX_SAMPLE_FILES = 200


class OutputsMixin:
    """Sample previews and snapshots, and checkpoints, of a :class:`~.run.Run`."""

    def _snapshot_samples(self, save: bool = True) -> None:
        gen, ds = self.generator, self._dataset
        if gen is None or ds is None or (gen.closed_form and self.step == 0):
            return
        labels = None
        with self.model_lock:
            if ds.kind == "image":
                x = gen.preview()
            elif ds.kind == "tabular":  # fixed seed, label included, classes in the real proportions
                x, labels = gen.sample_with_labels(POINT_PREVIEW, seed=gen.seed_ + PREVIEW_SEED_OFFSET)
            else:
                x = gen.preview(POINT_PREVIEW)
        if ds.kind == "image":
            png = png_bytes(image_grid(ds.decode(x), nrow=preview_row(gen, len(x))))  # a row per class if conditional
            points = None
        else:
            # the live view draws points itself: rasterise a PNG only for the run folder
            png = png_bytes(scatter_png(x, self._bounds, reference=ds.x[:2000])) if save else None
            points = x
        with self._lock:
            self.preview_step, self.preview_png, self.preview_points = self.step, png, points
            self.preview_labels = labels
            self._last_preview_t = time.time()
        if not save:
            return
        path = self.folder.write_sample(self.step, png)
        self._saved_step = self.step
        if not self._sample_steps or self._sample_steps[-1] != self.step:
            self._sample_steps.append(self.step)
        self._prune_samples()
        self._emit(Event("samples", self.step, {"path": str(path)}))

    def _prune_samples(self) -> None:
        """Bound the snapshots on disk: over ``max_sample_files``, double the stride and keep only the
        first, the newest and those on the new grid (so they stay spread evenly over the run)."""
        steps = self._sample_steps
        limit = max(3, int(self.max_sample_files))

        def on_grid() -> list[int]:  # the first, the newest, and multiples of the current stride
            grid = self.config.sample_every * self._sample_stride
            return [s for i, s in enumerate(steps) if i == 0 or i == len(steps) - 1 or s % grid == 0]

        # stride 1 (short runs) keeps every snapshot; past that a superseded "newest" goes too
        keep = steps if self._sample_stride == 1 else on_grid()
        while len(keep) > limit:
            self._sample_stride *= 2
            keep = on_grid()
        for s in set(steps) - set(keep):
            self.folder.delete_sample(s)
        self._sample_steps = keep

    def _checkpoint(self) -> None:
        gen = self.generator
        if gen is None:
            return
        metrics = getattr(self, "_metrics", None)
        if metrics is not None and not metrics.closed:
            metrics.flush()  # the curves on disk always reach the checkpoint, even after a SIGKILL
        with self.model_lock:
            state = {"config": self.config.to_dict(), "step": self.step, "generator": gen.state_dict()}
            self.folder.save_checkpoint(state)
        self._write_status()
        self._emit(Event("checkpoint", self.step))
