"""Crops for a local discriminator (global + local discriminators, Iizuka et al. 2017, the usual
inpainting recipe): a fixed-size window centred where the generator changed the slice most, so a
flaw in the fill (a kidney outline that bulges where the blob's halo was kept) is judged on its own
instead of being diluted by the rest of the slice."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def edit_centres(x: torch.Tensor, x_cf: torch.Tensor, crop: int, smooth: int = 5) -> torch.Tensor:
    """Per slice, the pixel ``(row, col)`` where ``|x − x_cf|`` averaged over a ``smooth`` × ``smooth``
    window is largest, moved inwards so that a ``crop`` × ``crop`` window centred there fits the image.

    ``x``, ``x_cf``: ``[B, 1, H, W]`` (no gradient is taken); returns int64 ``[B, 2]`` with the crop's
    top-left corner ``(row0, col0)``. Ties go to the first maximum in raster order.
    """
    b, _, h, w = x.shape
    if crop > h or crop > w:
        raise ValueError(f"crop {crop} is larger than the {h}x{w} image")
    with torch.no_grad():
        d = F.avg_pool2d((x - x_cf).abs(), smooth, stride=1, padding=smooth // 2, count_include_pad=False)
        flat = d.reshape(b, -1).argmax(dim=1)
    rows, cols = flat // w, flat % w
    row0 = (rows - crop // 2).clamp(0, h - crop)
    col0 = (cols - crop // 2).clamp(0, w - crop)
    return torch.stack([row0, col0], dim=1)


def crop_at(x: torch.Tensor, corners: torch.Tensor, crop: int) -> torch.Tensor:
    """``x[i, :, r:r+crop, c:c+crop]`` for each ``(r, c)`` in ``corners`` ``[B, 2]`` → ``[B, C, crop, crop]``
    (differentiable with respect to ``x``)."""
    return torch.stack([x[i, :, r : r + crop, c : c + crop] for i, (r, c) in enumerate(corners.tolist())])
