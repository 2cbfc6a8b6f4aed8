"""Coded errors raised by the training package (the CLI prints ``error <CODE>: <message>``)."""

from __future__ import annotations

from typing import Literal

#: Every error code the training package raises, one line each.
ErrorCode = Literal[
    "DATA_NOT_FOUND",  # the benchmark directory, manifest, dataset card or a NIfTI file is missing
    "DATA_INVALID",  # a file exists but does not follow docs/DATASET.md (columns, dims, values)
    "CONFIG_INVALID",  # a preset file is missing, unreadable or has a bad value
    "CHECKPOINT_NOT_FOUND",  # a checkpoint (or the classifier a generator needs) does not exist
    "CHECKPOINT_INVALID",  # a checkpoint does not match the model / preset it is loaded into
    "MODEL_NOT_FOUND",  # an exported model file (ONNX) named on the command line does not exist
    "MODEL_INVALID",  # a committed model's graph does not match the sha256 in its model.json
    "PARITY_FAILED",  # ONNX Runtime and PyTorch outputs differ by more than the tolerance
    "NO_VALID_CANDIDATE",  # inpaint-refine: no hole keeps the counterfactuals valid (val CV below inpainter.refine.minCV)
    "USAGE",  # bad command-line arguments
]


class TrainError(Exception):
    """An expected failure with a stable ``code`` (one of :data:`ErrorCode`)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code: ErrorCode = code
        self.message = message
