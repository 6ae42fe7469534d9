"""The ``Dataset`` type and the dataset registry."""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..errors import ConfigError
from .table_columns import ColumnSpec

if TYPE_CHECKING:
    from .table_schema import Schema

KINDS = ("image", "points", "tabular")


@dataclass(frozen=True)
class KnownModes:
    """The modes of a synthetic mixture (the 2-D toy sets): ``centres`` (K x 2) and each mode's
    standard deviation ``std``. Mode coverage and the live mode-collapse note are computed from them."""

    centres: np.ndarray
    std: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "centres", np.asarray(self.centres, dtype=np.float64).reshape(-1, 2))
        object.__setattr__(self, "std", float(self.std))


@dataclass
class Dataset:
    """Real data in model space.

    ``x`` is float32: images are N x C x H x W scaled to [-1, 1]; points and tabular rows are N x D.
    ``y`` holds optional integer labels (0..len(classes)-1). ``discrete`` lists the columns of
    ``x`` that stand for a discrete value (a level per interval of a table's frequency view), which
    kernel smoothing must leave alone. ``warnings`` says what loading fixed or skipped (an upload's
    empty column, unreadable images): the UI and the CLI show them. What a table's columns are is
    typed too (:attr:`column_specs`, :attr:`label_spec`, :attr:`schema`), and so are a toy mixture's
    ``modes``; ``meta`` holds free-form facts (where an upload came from, an encoder's saved state).
    """

    name: str
    kind: str
    x: np.ndarray
    y: np.ndarray | None = None
    classes: list[str] | None = None
    description: str = ""
    source: str = ""
    feature_names: list[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    discrete: tuple[int, ...] = ()
    warnings: list[str] = field(default_factory=list)
    modes: KnownModes | None = None

    def __post_init__(self) -> None:
        if "modes" in self.meta and "mode_std" in self.meta:  # meta saved before modes were a field
            self.meta = dict(self.meta)
            self.modes = self.modes or KnownModes(self.meta.pop("modes"), self.meta.pop("mode_std"))
        if any(k in self.meta for k in ("warnings", "discrete")):  # a dataset's meta saved before these were fields
            self.meta = dict(self.meta)
            self.warnings = list(self.warnings) or list(self.meta.pop("warnings", None) or [])
            self.discrete = tuple(self.discrete) or tuple(self.meta.pop("discrete", None) or ())
            self.meta.pop("warnings", None)
            self.meta.pop("discrete", None)
        self.discrete = tuple(int(j) for j in self.discrete)
        self.warnings = [str(w) for w in self.warnings]
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self.x = np.ascontiguousarray(self.x, dtype=np.float32)
        if self.kind == "image" and self.x.ndim != 4:
            raise ValueError("image datasets need x of shape N x C x H x W")
        if self.kind in ("points", "tabular") and self.x.ndim != 2:
            raise ValueError("points/tabular datasets need x of shape N x D")
        if self.y is not None:
            self.y = np.asarray(self.y, dtype=np.int64)
            if len(self.y) != len(self.x):
                raise ValueError("x and y must have the same length")
        if self.feature_names is None and self.kind != "image":
            self.feature_names = [f"x{i}" for i in range(self.x.shape[1])]

    def __len__(self) -> int:
        return len(self.x)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    @property
    def n_features(self) -> int:
        return int(np.prod(self.sample_shape))

    @property
    def n_classes(self) -> int:
        return len(self.classes) if self.classes else 0

    # -- a table's columns (TabularDataset fills these in from its encoder) ------------------------
    @property
    def column_specs(self) -> tuple[ColumnSpec, ...]:
        """One typed descriptor per encoded table column (kind, levels, span in ``x``, missingness,
        the user's name and dtype); empty for images, points and plain matrices."""
        return ()

    @property
    def label_spec(self) -> ColumnSpec | None:
        """The label column's descriptor, for a table with a named label; else None."""
        return None

    @property
    def schema(self) -> "Schema | None":
        """A table's schema (column types, which are used, the label); None for other data."""
        return None

    def decode(self, x: np.ndarray) -> np.ndarray:
        """Model space -> the user's space: images as uint8 N x H x W x C pixels, points unchanged."""
        x = np.asarray(x, dtype=np.float32)
        if self.kind == "image":
            x = x.reshape((-1, *self.sample_shape))
            pixels = np.clip((x + 1.0) * 127.5, 0, 255).round().astype(np.uint8)
            return pixels.transpose(0, 2, 3, 1)
        return x

    def subset(self, n: int, seed: int = 0) -> "Dataset":
        """A random subset of ``n`` rows (for quick tests and previews)."""
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(self), size=min(n, len(self)), replace=False)
        return Dataset(
            name=self.name, kind=self.kind, x=self.x[idx], y=None if self.y is None else self.y[idx],
            classes=self.classes, description=self.description, source=self.source,
            feature_names=self.feature_names, meta=dict(self.meta), discrete=self.discrete,
            warnings=list(self.warnings), modes=self.modes,
        )

    def take(self, idx: np.ndarray) -> "Dataset":
        """Rows ``idx``, same type and everything else (a table keeps its encoder): the train and
        holdout parts of a split (``data.holdout``)."""
        idx = np.asarray(idx, dtype=np.int64)
        return dataclasses.replace(self, x=self.x[idx], y=None if self.y is None else self.y[idx],
                                   meta=dict(self.meta))

    def summary(self) -> dict[str, Any]:
        """Basic stats for the Data page and the CLI."""
        out: dict[str, Any] = {
            "name": self.name, "kind": self.kind, "samples": len(self),
            "shape": "x".join(map(str, self.sample_shape)),
            "min": float(self.x.min()), "max": float(self.x.max()),
            "mean": float(self.x.mean()), "std": float(self.x.std()),
        }
        if self.y is not None and self.classes:
            out["classes"] = len(self.classes)
            counts = np.bincount(self.y, minlength=len(self.classes))
            out["per_class"] = {c: int(k) for c, k in zip(self.classes, counts)}
        return out


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    kind: str
    label: str
    description: str
    loader: Callable[[], Dataset]
    offline: bool = True


_REGISTRY: dict[str, DatasetInfo] = {}
_CACHE: dict[str, Dataset] = {}
_LOCK = threading.Lock()
_REG_LOCK = threading.RLock()  # registry edits (uploads register at run time, from any thread)

#: names of datasets made from a user's file (see ``user_data``): ``upload-<slug>-<hash8>``
UPLOAD_PREFIX = "upload-"


#: names of 2-D distributions a user drew on the Train page (see ``drawn``): ``drawn-<hash8>``
DRAWN_PREFIX = "drawn-"


#: prefix -> resolver, for datasets made at run time (see :func:`register_resolver`)
_RESOLVERS: dict[str, Callable[[str], Any]] = {}


def register_resolver(prefix: str, resolve: Callable[[str], Any]) -> None:
    """Let the module that makes ``<prefix>...`` datasets at run time (``user_data``: uploads,
    ``drawn``: drawings) find one this process has not registered (saved before a server restart,
    or by another process: the CLI, a run's worker). ``resolve(name)`` registers it if it can."""
    with _REG_LOCK:
        _RESOLVERS[prefix] = resolve


def is_upload(name: str) -> bool:
    """True for datasets made from a user's uploaded file (their names start with ``upload-``)."""
    return isinstance(name, str) and name.startswith(UPLOAD_PREFIX)


def is_user_dataset(name: str) -> bool:
    """True for datasets a user made (an upload or a drawing): the UI shows each only to the browser
    session that made it; built-ins are everyone's."""
    return isinstance(name, str) and name.startswith((UPLOAD_PREFIX, DRAWN_PREFIX))


def register_dataset(name: str, *, kind: str, label: str, description: str, offline: bool = True):
    """Decorator for a zero-argument loader returning a :class:`Dataset`. Duplicate names raise."""

    def deco(fn: Callable[[], Dataset]) -> Callable[[], Dataset]:
        register_loader(name, fn, kind=kind, label=label, description=description, offline=offline)
        return fn

    return deco


def register_loader(name: str, loader: Callable[[], Dataset], *, kind: str, label: str, description: str,
                    offline: bool = True, exist_ok: bool = False) -> DatasetInfo:
    """Register a zero-argument loader (the non-decorator form, for datasets made at run time).

    A duplicate name raises, unless ``exist_ok`` and the registered entry has the same kind (then
    the existing entry is returned: registering a saved upload twice is a no-op).
    """
    if kind not in KINDS:
        raise ValueError(f"dataset {name!r}: kind must be one of {KINDS}")
    with _REG_LOCK:
        old = _REGISTRY.get(name)
        if old is not None:
            if exist_ok and old.kind == kind:
                return old
            raise ValueError(f"dataset {name!r} is already registered")
        info = DatasetInfo(name, kind, label, description, loader, offline)
        _REGISTRY[name] = info
        return info


def unregister_dataset(name: str) -> bool:
    """Forget a dataset and its cached copy (tests use it to simulate a server restart)."""
    with _REG_LOCK, _LOCK:
        _CACHE.pop(name, None)
        return _REGISTRY.pop(name, None) is not None


def cache_dataset(name: str, ds: Dataset) -> None:
    """Put an already-loaded dataset in the per-process cache (an upload was just parsed: no need to
    parse it again on first use)."""
    info = dataset_info(name)
    if ds.kind != info.kind or ds.name != name:
        raise ValueError(f"dataset {name!r}: cached copy has name {ds.name!r} and kind {ds.kind}")
    with _LOCK:
        _CACHE[name] = ds


def list_datasets(kind: str | None = None, *, uploads: bool = True) -> list[DatasetInfo]:
    """Registered datasets (optionally of one kind); ``uploads=False`` leaves out the datasets users
    made (uploads and drawings), i.e. lists only the built-ins."""
    return [d for d in list(_REGISTRY.values())
            if (kind is None or d.kind == kind) and (uploads or not is_user_dataset(d.name))]


def dataset_info(name: str) -> DatasetInfo:
    """The registry entry for ``name``. A name made at run time (``upload-...``, ``drawn-...``) that
    is not registered in this process is handed to its prefix's resolver (:func:`register_resolver`),
    which looks among the files saved on disk."""
    info = _REGISTRY.get(name)
    if info is None and isinstance(name, str):
        for prefix, resolve in list(_RESOLVERS.items()):
            if name.startswith(prefix):
                resolve(name)
                info = _REGISTRY.get(name)
                break
    if info is None:
        builtin = [n for n in _REGISTRY if not is_user_dataset(n)]
        hint = " (an uploaded dataset: upload the file again)" if is_upload(name) else ""
        raise ConfigError(f"Unknown dataset {name!r}{hint}; choose one of: {', '.join(builtin)}")
    return info


def load_dataset(name: str) -> Dataset:
    """Load (once per process) and return a registered dataset."""
    info = dataset_info(name)
    with _LOCK:
        if name not in _CACHE:
            ds = info.loader()
            if ds.kind != info.kind:
                raise RuntimeError(f"dataset {name!r} loader returned kind {ds.kind}, registered {info.kind}")
            _CACHE[name] = ds
        return _CACHE[name]
