"""Image grids and small raster previews (PNG) for sample snapshots."""
from __future__ import annotations

import io
import math

import numpy as np
import torch
from PIL import Image, ImageDraw
from torchvision.utils import make_grid


def image_grid(pixels: np.ndarray, nrow: int | None = None, target_px: int = 480, pad: int = 2) -> Image.Image:
    """uint8 N x H x W x C pixels -> one PIL image, upscaled (nearest) so small digits stay crisp."""
    pixels = np.asarray(pixels)
    n, h, w, c = pixels.shape
    nrow = nrow or max(1, int(math.ceil(math.sqrt(n))))
    t = torch.from_numpy(np.ascontiguousarray(pixels.transpose(0, 3, 1, 2)))
    grid = make_grid(t, nrow=nrow, padding=pad, pad_value=255 if c == 1 else 128)
    arr = grid.permute(1, 2, 0).numpy()
    if c == 1:
        arr = arr[..., 0]
    img = Image.fromarray(arr)
    scale = max(1, target_px // max(img.width, 1))
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    return img


def scatter_png(points: np.ndarray, bounds: tuple[float, float, float, float], size: int = 360,
                reference: np.ndarray | None = None) -> Image.Image:
    """Rasterise 2-D points (first two columns) into a square PNG: reference in grey, points in blue."""
    x0, x1, y0, y1 = bounds
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)

    def to_px(p: np.ndarray) -> np.ndarray:
        u = (p[:, 0] - x0) / max(x1 - x0, 1e-9) * (size - 1)
        v = (1 - (p[:, 1] - y0) / max(y1 - y0, 1e-9)) * (size - 1)
        return np.stack([u, v], 1)

    for pts, colour in ((reference, (200, 200, 200)), (points, (31, 119, 180))):
        if pts is None or len(pts) == 0:
            continue
        pts = np.asarray(pts, dtype=np.float64).reshape(len(pts), -1)[:, :2]
        if pts.shape[1] < 2:
            pts = np.concatenate([pts, np.zeros((len(pts), 2 - pts.shape[1]))], axis=1)
        pts = pts[np.isfinite(pts).all(1)]
        for u, v in to_px(pts):
            draw.ellipse((u - 1.5, v - 1.5, u + 1.5, v + 1.5), fill=colour)
    return img


def data_bounds(x: np.ndarray, margin: float = 0.15) -> tuple[float, float, float, float]:
    """Plot bounds of the first two columns (a table with one column: 0 on the second axis)."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    if x.shape[1] < 2:
        x = np.concatenate([x, np.zeros((len(x), 2 - x.shape[1]))], axis=1)
    lo, hi = np.percentile(x[:, :2], 0.5, axis=0), np.percentile(x[:, :2], 99.5, axis=0)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - margin * span, hi + margin * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()
