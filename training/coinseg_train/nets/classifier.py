"""ResNet-18-like slice classifier: 1-channel stem, 4 stages of basic blocks, GAP, one logit."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    """ResNet basic block (two 3x3 convs with batch norm, identity or 1x1 projection shortcut)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + self.shortcut(x))


class Classifier(nn.Module):
    """f(X): input ``[B, 1, S, S]`` in [-1, 1] → logit ``[B, 1]`` (sigmoid = P(abnormal)).

    The target layer for CAM methods is ``layer4`` (the last conv block, right before global average
    pooling + the linear head). Config keys: widths (4), blocks (4), stemKernel, stemStride, stemPool.
    """

    def __init__(self, widths: list[int], blocks: list[int], stem_kernel: int = 7, stem_stride: int = 2, stem_pool: bool = True) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, widths[0], stem_kernel, stem_stride, stem_kernel // 2, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1) if stem_pool else nn.Identity(),
        )
        stages = []
        cin = widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            layers = [BasicBlock(cin, w, 1 if i == 0 else 2)] + [BasicBlock(w, w, 1) for _ in range(n - 1)]
            stages.append(nn.Sequential(*layers))
            cin = w
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(cin, 1)

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> "Classifier":
        """Build from the ``classifier`` section of a preset."""
        return cls(cfg["widths"], cfg["blocks"], cfg["stemKernel"], cfg["stemStride"], cfg["stemPool"])

    def activations(self, x: torch.Tensor) -> torch.Tensor:
        """Target-layer activations A = layer4 output ``[B, C, h, w]``."""
        return self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))

    def head(self, a: torch.Tensor) -> torch.Tensor:
        """logit = fc(GAP(A)) ``[B, 1]``."""
        return self.fc(a.mean(dim=(2, 3)))

    def activations_grad(self, a: torch.Tensor) -> torch.Tensor:
        """d logit / d A, computed with forward ops: for GAP + linear it is w_k / (h*w) everywhere,
        exact (no approximation). Shape ``[B, C, h, w]``."""
        coef = self.fc.weight.reshape(1, -1, 1, 1) / float(a.shape[2] * a.shape[3])
        return torch.ones_like(a) * coef

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.activations(x))


class ResizedClassifier(nn.Module):
    """f on slices at a larger size than the classifier's: the input ``[B, 1, S', S']`` is resized
    bilinearly (half-pixel centres, no antialias — the preprocessing's resize) to the classifier's
    ``size`` first. For a slice whose native grid is S', this equals f on the slice preprocessed at
    ``size`` directly, so a generator trained at S' is judged by the same frozen classifier."""

    def __init__(self, classifier: nn.Module, size: int) -> None:
        super().__init__()
        self.classifier = classifier
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.size or x.shape[-2] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False, antialias=False)
        return self.classifier(x)


class ClassifierExport(nn.Module):
    """The exported classifier graph: x → (logit, activations, activations_grad)."""

    def __init__(self, classifier: Classifier) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        a = self.classifier.activations(x)
        return self.classifier.head(a), a, self.classifier.activations_grad(a)
