"""Built-in tables: four scikit-learn sets (offline) and a generated mixed-type "patients" table.

Each goes through :func:`synth_core.data.tabular.tabular_dataset`, so ``decode`` returns the
DataFrame. iris / wine / breast-cancer use their class column as the label (``y``, left out of
``x``). diabetes is a regression set: it has no label, and its target ("progression", an integer
score) stays an ordinary column of the table, so generators learn it jointly with the features;
``meta["target"]`` names it for regression-style utility metrics.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from .base import register_dataset, register_loader
from .tabular import TabularDataset, infer_schema, tabular_dataset

PATIENTS_ROWS = 1000
PATIENTS_SEED = 0


@dataclass(frozen=True)
class SklearnTable:
    """A scikit-learn classification set shipped as a table: its loader, label column and texts."""

    name: str
    loader: str          # the sklearn.datasets function
    label: str           # the class column's name in the table
    title: str           # the dataset picker's entry
    summary: str         # one line for the picker
    description: str     # the longer text the Data page shows


SKLEARN_TABLES = (
    SklearnTable("iris", "load_iris", "species", "Iris (150 flowers, scikit-learn)",
                 "Fisher's iris: 4 measurements (cm) of 150 flowers, label = species (3 classes).",
                 "Fisher's iris: 150 flowers, 4 measurements in cm (1 decimal), "
                 "label = species (setosa, versicolor, virginica)."),
    SklearnTable("wine", "load_wine", "cultivar", "Wine (178 wines, scikit-learn)",
                 "13 chemical measurements of 178 Italian wines, label = cultivar (3 classes).",
                 "178 wines from three cultivars, 13 chemical measurements; label = cultivar (class_0..class_2)."),
    SklearnTable("breast-cancer", "load_breast_cancer", "diagnosis", "Breast cancer (569 tumours, scikit-learn)",
                 "30 cell-nucleus features of 569 tumours, label = diagnosis (malignant/benign).",
                 "Wisconsin diagnostic breast cancer: 569 tumours, 30 features; label = diagnosis (malignant, benign)."),
)


def sklearn_frame(name: str) -> pd.DataFrame:
    """The table of the scikit-learn set ``name`` (one of :data:`SKLEARN_TABLES`), its class column
    holding class names ("setosa", "malignant"), which read better than 0/1/2 in decoded tables."""
    import sklearn.datasets

    spec = next(t for t in SKLEARN_TABLES if t.name == name)
    bunch = getattr(sklearn.datasets, spec.loader)(as_frame=True)
    df = bunch.frame.copy()
    target = df.pop("target")
    df[spec.label] = np.asarray(bunch.target_names)[target.to_numpy()]
    return df


def _load_sklearn_table(spec: SklearnTable) -> TabularDataset:
    return tabular_dataset(sklearn_frame(spec.name), spec.name, label=spec.label,
                           source=f"sklearn.datasets.{spec.loader}()", description=spec.description)


for _spec in SKLEARN_TABLES:
    register_loader(_spec.name, partial(_load_sklearn_table, _spec), kind="tabular", label=_spec.title,
                    description=_spec.summary)


@register_dataset("diabetes", kind="tabular", label="Diabetes (442 patients, regression, scikit-learn)",
                  description="10 baseline variables of 442 diabetes patients plus the 1-year disease "
                              "progression score (a column, not a label: it is a regression target).")
def load_diabetes() -> TabularDataset:
    import sklearn.datasets

    # unscaled values (age in years, bmi, blood pressure...) are what a person recognises
    df = sklearn.datasets.load_diabetes(as_frame=True, scaled=False).frame.rename(columns={"target": "progression"})
    schema = infer_schema(df).set_type("sex", "categorical")  # coded 1/2: a category, not a quantity
    ds = tabular_dataset(df, "diabetes", schema=schema, source="sklearn.datasets.load_diabetes(scaled=False)",
                         description="442 diabetes patients: age, sex (coded 1/2), bmi, blood pressure, six blood "
                                     "serum measurements, and 'progression' (disease progression after one year, "
                                     "the regression target; no class label).")
    ds.meta.update(target="progression", task="regression")
    return ds


def patients_frame(n: int = PATIENTS_ROWS, seed: int = PATIENTS_SEED) -> pd.DataFrame:
    """A made-up clinic table with every column type and some missing values (deterministic).

    Columns: age (integer), sex (categorical), smoker (boolean), bmi (1 decimal, 4% missing),
    systolic_bp (integer, 3% missing), cholesterol (bimodal: the CTGAN-style "mode" encoding
    shows its worth here), region (categorical, 5% missing), admitted (date), visits (count),
    risk (low/medium/high: the label, derived from the others so it is learnable).
    """
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 91, n)
    sex = rng.choice(["female", "male"], n, p=[0.52, 0.48])
    smoker = rng.random(n) < 0.22
    bmi = np.clip(rng.normal(26 + 0.04 * (age - 50), 4.5, n), 15, 50).round(1)
    bp = np.clip(rng.normal(115 + 0.45 * age + 6 * smoker, 12, n), 85, 210).round()
    treated = rng.random(n) < 0.3  # statin users: a second cholesterol mode
    chol = np.where(treated, rng.normal(4.2, 0.35, n), rng.normal(6.1, 0.6, n)).clip(2.5, 9.5).round(2)
    region = rng.choice(["north", "south", "east", "west"], n, p=[0.3, 0.3, 0.25, 0.15]).astype(object)
    admitted = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365, n), unit="D")
    visits = rng.poisson(1 + 0.03 * (age - 18) + smoker, n)
    score = 0.04 * (age - 50) + 0.1 * (bmi - 26) + 0.03 * (bp - 135) + 1.0 * smoker + rng.normal(0, 0.7, n)
    risk = np.where(score > 1.0, "high", np.where(score > -0.3, "medium", "low"))
    df = pd.DataFrame({
        "age": age, "sex": sex, "smoker": smoker, "bmi": bmi, "systolic_bp": bp, "cholesterol": chol,
        "region": region, "admitted": admitted, "visits": visits, "risk": risk,
    })
    df.loc[rng.random(n) < 0.04, "bmi"] = np.nan
    df.loc[rng.random(n) < 0.03, "systolic_bp"] = np.nan
    df.loc[rng.random(n) < 0.05, "region"] = np.nan
    df["region"] = df["region"].astype("str")
    return df


@register_dataset("patients", kind="tabular", label="Patients (1,000 rows, mixed types, synthetic demo)",
                  description="A made-up clinic table with integers, categories, a boolean, a date and "
                              "missing values; label = risk (low/medium/high).")
def load_patients() -> TabularDataset:
    df = patients_frame()
    schema = infer_schema(df, label="risk").set_encoding("cholesterol", "mode")
    return tabular_dataset(df, "patients", schema=schema, source="synthetic (synth_core.data.tabular_sets)",
                           description="1,000 made-up patients: age, sex, smoker, bmi (4% missing), systolic_bp "
                                       "(3% missing), bimodal cholesterol (mode-specific encoding), region (5% "
                                       "missing), admission date, visits; label = risk (low/medium/high).")
