"""Encoder–decoder generator with residual blocks, conditional batch norm and skip connections at all
4 levels. COIN: perturbation head, X_cf = tanh(P(X) + X). Singla et al.*: X_cf = tanh(P(X, c))."""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from .conditional_batch_norm import ConditionalBatchNorm2d


class ResBlock(nn.Module):
    """Pre-activation residual block at one resolution: CBN → ReLU → conv3x3 → CBN → ReLU → conv3x3,
    plus a 1x1 shortcut when the channel count changes."""

    def __init__(self, cin: int, cout: int, num_conditions: int) -> None:
        super().__init__()
        self.bn1 = ConditionalBatchNorm2d(cin, num_conditions)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.bn2 = ConditionalBatchNorm2d(cout, num_conditions)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.skip: nn.Module = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        h = self.conv1(F.relu(self.bn1(x, c)))
        h = self.conv2(F.relu(self.bn2(h, c)))
        return h + self.skip(x)


class DownBlock(nn.Module):
    """Encoder step: 2x2 average pool, then a residual block (convs run at the lower resolution)."""

    def __init__(self, cin: int, cout: int, num_conditions: int) -> None:
        super().__init__()
        self.block = ResBlock(cin, cout, num_conditions)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        return self.block(F.avg_pool2d(x, 2), c)


class UpBlock(nn.Module):
    """Decoder step: nearest 2x upsample, concatenate the encoder skip of that level, fuse with a 1x1
    conv, then a residual block."""

    def __init__(self, cin: int, cskip: int, cout: int, num_conditions: int) -> None:
        super().__init__()
        self.fuse = nn.Conv2d(cin + cskip, cout, 1)
        self.block = ResBlock(cout, cout, num_conditions)

    def forward(self, x: torch.Tensor, skip: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        h = torch.cat([F.interpolate(x, scale_factor=2.0, mode="nearest"), skip], dim=1)
        return self.block(self.fuse(h), c)


class Generator(nn.Module):
    """G: x ``[B, 1, S, S]`` in [-1, 1] (and condition ``[B]`` float, Singla only) → x_cf in [-1, 1].

    widths = [w1, w2, w3, w4, bottleneck]. Encoder levels at S, S/2, S/4, S/8 (each kept as a skip
    connection), bottleneck at S/16, decoder concatenates the skip at each of the 4 levels.
    ``full_res_block`` adds a residual block at level 1 (S x S; costly on a CPU).
    ``perturbation`` (COIN) adds X before the tanh; ``zero_init_head`` zero-initialises the last conv
    so that P = 0 at step 0 (COIN: X_cf = tanh(X)).
    """

    def __init__(
        self,
        widths: list[int],
        num_conditions: int = 1,
        perturbation: bool = True,
        zero_init_head: bool = False,
        full_res_block: bool = False,
        bottleneck_blocks: int = 1,
    ) -> None:
        super().__init__()
        w1, w2, w3, w4, wb = widths
        n = num_conditions
        self.num_conditions = num_conditions
        self.perturbation = perturbation
        self.stem = nn.Conv2d(1, w1, 3, 1, 1)
        self.enc1 = ResBlock(w1, w1, n) if full_res_block else None
        self.enc2 = DownBlock(w1, w2, n)
        self.enc3 = DownBlock(w2, w3, n)
        self.enc4 = DownBlock(w3, w4, n)
        self.mid = DownBlock(w4, wb, n)
        self.mid_blocks = nn.ModuleList([ResBlock(wb, wb, n) for _ in range(max(0, bottleneck_blocks - 1))])
        self.dec4 = UpBlock(wb, w4, w4, n)
        self.dec3 = UpBlock(w4, w3, w3, n)
        self.dec2 = UpBlock(w3, w2, w2, n)
        self.dec1 = UpBlock(w2, w1, w1, n)
        self.out_bn = ConditionalBatchNorm2d(w1, n)
        self.out_conv = nn.Conv2d(w1, 1, 3, 1, 1)
        if zero_init_head:
            nn.init.zeros_(self.out_conv.weight)
            nn.init.zeros_(self.out_conv.bias)

    @classmethod
    def from_config(cls, cfg: dict[str, Any], singla: bool) -> "Generator":
        """Build from the ``coin`` / ``singla`` section of a preset (Singla: 2 conditions, no
        perturbation head, never zero-initialised since tanh(0) would be a constant image)."""
        g = cfg["generator"]
        return cls(
            g["widths"],
            2 if singla else 1,
            perturbation=not singla,
            zero_init_head=bool(g.get("zeroInitHead")) and not singla,
            full_res_block=bool(g.get("fullResBlock", False)),
            bottleneck_blocks=int(g.get("bottleneckBlocks", 1)),
        )

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        p = self.head(x, condition)
        return torch.tanh(p + x) if self.perturbation else torch.tanh(p)

    def head(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        """The last conv's output before the tanh: COIN's perturbation P (X_cf = tanh(P + X))."""
        c = condition
        e1 = self.stem(x)
        if self.enc1 is not None:
            e1 = self.enc1(e1, c)
        e2 = self.enc2(e1, c)
        e3 = self.enc3(e2, c)
        e4 = self.enc4(e3, c)
        h = self.mid(e4, c)
        for block in self.mid_blocks:
            h = block(h, c)
        h = self.dec4(h, e4, c)
        h = self.dec3(h, e3, c)
        h = self.dec2(h, e2, c)
        h = self.dec1(h, e1, c)
        return self.out_conv(F.relu(self.out_bn(h, c)))


class GeneratorEnsemble(nn.Module):
    """Several generators (e.g. EMA snapshots of one run) as one: X_cf = the mean of the members'
    counterfactuals, each optionally also run on the left-right mirrored slice and mirrored back
    (``flip``). Same signature as :class:`Generator`; every member output is in [-1, 1], so is the mean."""

    def __init__(self, members: list[Generator], flip: bool = False) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one generator")
        self.members = nn.ModuleList(members)
        self.flip = flip

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        return mean_counterfactual(self.members, self.flip, x, condition)


def mean_counterfactual(members: nn.ModuleList, flip: bool, x: torch.Tensor,
                        condition: torch.Tensor | None = None) -> torch.Tensor:
    """The mean of the members' counterfactuals of ``x`` and, with ``flip``, of their counterfactuals of
    the left-right mirrored slice mirrored back."""
    outs = []
    for g in members:
        outs.append(g(x, condition))
        if flip:
            outs.append(torch.flip(g(torch.flip(x, dims=[3]), condition), dims=[3]))
    return torch.stack(outs, 0).mean(0)


def upsampled_change(counterfactual: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, factor: int) -> torch.Tensor:
    """The change ``counterfactual(X_c) - X_c`` of the slice average-pooled by ``factor`` (X_c), upsampled
    bilinearly back to the slice's grid."""
    xc = F.avg_pool2d(x, factor)
    return upsample(counterfactual(xc) - xc, factor)


def upsample(change: torch.Tensor, factor: int) -> torch.Tensor:
    """Bilinear (half-pixel) upsampling by ``factor``: how a change at S/f is carried onto S."""
    return F.interpolate(change, scale_factor=float(factor), mode="bilinear", align_corners=False)


class FineGridCounterfactual(nn.Module):
    """A counterfactual generator trained at S/f served at S: X_cf = clamp(X + up_f(G(avgpool_f X) -
    avgpool_f X), -1, 1), so the mask rule |X - X_cf|/2 > t is applied on the finer grid (the service's
    native one), where a bilinear change has sub-cell edges. No weights of its own."""

    def __init__(self, generator: nn.Module, factor: int) -> None:
        super().__init__()
        if factor < 2:
            raise ValueError("a fine-grid counterfactual needs a factor >= 2")
        self.generator = generator
        self.factor = int(factor)

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        return torch.clamp(x + upsampled_change(lambda xc: self.generator(xc, condition), x, self.factor), -1.0, 1.0)


class CoarseToFineGenerator(nn.Module):
    """COIN at S from a frozen COIN generator at S/f plus a trainable full-resolution enhancer (after
    pix2pixHD's global generator + local enhancer, Wang et al. 2018):

        D_c = mean over the coarse members (and their mirrored passes) of G_c(avgpool_f(X)) - avgpool_f(X)
        X_cf = clamp(X + up_f(D_c) + R(X, up_f(D_c)), -1, 1)

    ``R`` is a small residual net at full resolution whose last conv is zero-initialised, so at step 0
    the difference map is the coarse model's, upsampled bilinearly (the service's native mask), and
    training only has to sharpen where it changes the slice (the target's edge, a pixel or two at
    S/f). The coarse members' own head is COIN's X_cf = tanh(P + X).
    The coarse members stay frozen and in eval mode (their batch norms keep their statistics)."""

    def __init__(self, coarse: list[Generator], flip: bool, factor: int, widths: list[int]) -> None:
        super().__init__()
        if not coarse or factor < 2 or not widths:
            raise ValueError("a coarse-to-fine generator needs coarse members, a factor >= 2 and enhancer widths")
        self.coarse = nn.ModuleList(coarse)
        for q in self.coarse.parameters():
            q.requires_grad_(False)
        self.flip = flip
        self.factor = factor
        self.perturbation = True
        self.num_conditions = 1
        self.enh_stem = nn.Conv2d(2, widths[0], 3, 1, 1)
        self.enh_blocks = nn.ModuleList(ResBlock(a, b, 1) for a, b in zip(widths[:1] + widths[:-1], widths))
        self.enh_bn = ConditionalBatchNorm2d(widths[-1], 1)
        self.enh_out = nn.Conv2d(widths[-1], 1, 3, 1, 1)
        nn.init.zeros_(self.enh_out.weight)
        nn.init.zeros_(self.enh_out.bias)

    def train(self, mode: bool = True) -> "CoarseToFineGenerator":
        super().train(mode)
        self.coarse.eval()
        return self

    def coarse_change(self, x: torch.Tensor) -> torch.Tensor:
        """The coarse members' mean change X_cf - X at S/f, upsampled bilinearly to S."""
        return upsampled_change(lambda xc: mean_counterfactual(self.coarse, self.flip, xc), x, self.factor)

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        return self.with_coarse(x)[0]

    def with_coarse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(X_cf, the coarse model's counterfactual on the fine grid: X_cf with R = 0)."""
        change = self.coarse_change(x)
        h = self.enh_stem(torch.cat([x, change], dim=1))
        for block in self.enh_blocks:
            h = block(h, None)
        r = self.enh_out(F.relu(self.enh_bn(h, None)))
        return torch.clamp(x + change + r, -1.0, 1.0), torch.clamp(x + change, -1.0, 1.0)


def build_generator(section: dict[str, Any], singla: bool) -> nn.Module:
    """The generator a ``coin`` / ``singla`` config section describes: a :class:`Generator`, or with
    ``generator.coarse`` = ``{"generator": <the coarse members' generator section>, "members": K,
    "flip": bool, "factor": f, "enhancerWidths": [...], ...}`` a :class:`CoarseToFineGenerator` (COIN
    only: Singla ignores the option it inherits) whose weights come from a state dict (train_gan fills the section from a checkpoint)."""
    coarse = section["generator"].get("coarse")
    if not coarse or singla:  # Singla's section inherits COIN's; the option is COIN's alone
        return Generator.from_config(section, singla)
    members = [Generator.from_config({"generator": coarse["generator"]}, False) for _ in range(int(coarse["members"]))]
    return CoarseToFineGenerator(members, bool(coarse.get("flip", False)), int(coarse["factor"]),
                                 [int(w) for w in coarse["enhancerWidths"]])
