"""Conditional batch norm: batch norm without affine, then a per-condition scale and shift."""

from __future__ import annotations

import torch
from torch import nn


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm2d whose affine parameters depend on a condition.

    ``num_conditions`` is 1 (COIN: the single "normal" condition, the condition input is ignored) or 2
    (Singla et al.*: condition 0 = normal, 1 = abnormal). The condition is a float tensor ``[B]``;
    scale and shift are interpolated linearly between the two conditions, which equals an embedding
    lookup for 0/1 and exports to ONNX without a gather. Raises ValueError for other counts.
    """

    def __init__(self, channels: int, num_conditions: int) -> None:
        super().__init__()
        if num_conditions not in (1, 2):
            raise ValueError("num_conditions must be 1 or 2")
        self.num_conditions = num_conditions
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.gamma = nn.Parameter(torch.ones(num_conditions, channels))
        self.beta = nn.Parameter(torch.zeros(num_conditions, channels))

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
        h = self.bn(x)
        if self.num_conditions == 1 or condition is None:
            return h * self.gamma[0].view(1, -1, 1, 1) + self.beta[0].view(1, -1, 1, 1)
        c = condition.reshape(-1, 1).to(h.dtype)
        gamma = self.gamma[0] + c * (self.gamma[1] - self.gamma[0])
        beta = self.beta[0] + c * (self.beta[1] - self.beta[0])
        return h * gamma.unsqueeze(-1).unsqueeze(-1) + beta.unsqueeze(-1).unsqueeze(-1)
