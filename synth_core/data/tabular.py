"""Tables as datasets: ``TabularDataset`` and :func:`tabular_dataset` (DataFrame -> encoded dataset).

Generators see a float32 matrix; people see their own columns back. The pieces live one idea per
module: the schema (:mod:`.table_schema`), its inference (:mod:`.table_infer`), the per-column
maths (:mod:`.table_transforms`), the reversible encoder (:mod:`.table_encoder`) and its typed
column descriptors (:mod:`.table_columns`). The encoder is the bridge:

* numeric (continuous, integer, datetime as seconds): a quantile normal-score transform (default)
  or CTGAN's mode-specific normalisation (Xu et al. 2019, "Modeling Tabular Data using
  Conditional GAN", sec. 4.2: a small Bayesian GMM per column, value -> (scalar, one-hot mode));
* categorical / boolean: one-hot, decoded by argmax;
* missing values are never dropped: numeric columns get a ``<name>.missing`` indicator (and the
  median imputed underneath), categorical columns get a ``<name>=<missing>`` level.

Decoding clips to the observed min/max, rounds integers (and continuous columns to the number of
decimals seen in the data), and restores dtypes, category levels and NaN/NaT. Every learned
number lives in :meth:`TabularEncoder.state_dict` as plain lists/numbers/strings, so it fits in
a ``weights_only`` checkpoint or JSON.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .base import Dataset
from .table_columns import ColumnSpec
from .table_encoder import MAX_LEVELS, STATE_FORMAT, TabularEncoder
from .table_infer import AUTO_MAX_LEVELS, infer_column, infer_schema
from .table_schema import MAX_LABEL_CLASSES, Column, Schema, plain_value
from .vocab import COLUMN_TYPES, ENCODINGS, MISSING, NUMERIC_TYPES

__all__ = ["AUTO_MAX_LEVELS", "COLUMN_TYPES", "ENCODINGS", "MAX_LABEL_CLASSES", "MAX_LEVELS", "MISSING",
           "NUMERIC_TYPES", "STATE_FORMAT", "Column", "ColumnSpec", "Schema", "TabularDataset", "TabularEncoder",
           "infer_column", "infer_schema", "tabular_dataset"]


@dataclass
class TabularDataset(Dataset):
    """A :class:`Dataset` whose rows came from a DataFrame: ``decode`` gives the DataFrame back.

    ``encoder`` is the live encoder; what code needs from it is typed here (:attr:`schema`,
    :attr:`column_specs`, :attr:`label_spec`). ``meta["encoder"]`` keeps its plain-data state (the
    persisted form: the encoder is rebuilt from it when not passed in, as after a JSON round trip).
    """

    encoder: TabularEncoder | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kind != "tabular":
            raise ValueError("TabularDataset must have kind 'tabular'")
        if self.encoder is None:
            if "encoder" not in self.meta:
                raise ValueError("TabularDataset needs an encoder or meta['encoder']")
            self.encoder = TabularEncoder.from_state(self.meta["encoder"])

    @property
    def schema(self) -> Schema:
        """The schema the encoder was fitted with (a copy: editing it changes nothing here)."""
        assert self.encoder is not None
        return self.encoder.schema.copy()

    @property
    def column_specs(self) -> tuple[ColumnSpec, ...]:
        assert self.encoder is not None
        return self.encoder.column_specs

    @property
    def label_spec(self) -> ColumnSpec | None:
        assert self.encoder is not None
        return self.encoder.label_spec

    def decode(self, x: np.ndarray, y: np.ndarray | None = None) -> pd.DataFrame:  # type: ignore[override]
        """Model space -> the user's table (original columns, dtypes, levels; the label only with ``y``)."""
        assert self.encoder is not None
        return self.encoder.inverse_transform(np.asarray(x, dtype=np.float32), y)

    def frame(self) -> pd.DataFrame:
        """The real data as a table (what was encoded)."""
        return self.decode(self.x, self.y)

    def subset(self, n: int, seed: int = 0) -> "TabularDataset":
        base = super().subset(n, seed)
        return TabularDataset(**{f.name: getattr(base, f.name) for f in fields(Dataset)}, encoder=self.encoder)


def tabular_dataset(df: pd.DataFrame, name: str, schema: Schema | dict | None = None, label: Any | None = None, *,
                    description: str = "", source: str = "", warnings: list[str] | None = None,
                    seed: int = 0) -> TabularDataset:
    """Encode a DataFrame into a :class:`TabularDataset` (kind "tabular").

    ``schema`` defaults to :func:`infer_schema`; ``label`` (a column name) overrides the schema's
    label: its values become ``y`` (class codes, ``classes`` their names) and are left out of ``x``.
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if isinstance(schema, dict):
        schema = Schema.from_dict(schema)
    schema = schema if schema is not None else infer_schema(df)
    if label is not None:
        schema = schema.set_label(label)
    if not schema.features:
        raise DataError("no columns left to model: include at least one column besides the label.")
    enc = TabularEncoder(schema, seed=seed).fit(df)
    x = enc.transform(df)
    y = enc.transform_labels(df)
    meta: dict[str, Any] = {
        "schema": schema.to_dict(),
        "encoder": enc.state_dict(),
        "columns": [plain_value(c) if not isinstance(c, str) else c for c in enc.order_],
        "categorical": enc.categorical_features,
    }
    n_num = sum(c.type in NUMERIC_TYPES for c in schema.features)
    desc = description or (f"{len(df):,} rows, {len(schema.features)} columns ({n_num} numeric, "
                           f"{len(schema.features) - n_num} categorical/boolean)"
                           + (f", label {schema.label!r}" if schema.label is not None else "") + ".")
    return TabularDataset(name=name, kind="tabular", x=x, y=y, classes=enc.classes, description=desc,
                          source=source, feature_names=enc.feature_names, meta=meta, warnings=list(warnings or []),
                          encoder=enc)
