"""coinseg_train: trains the classifier, COIN and Singla et al.* generators and exports them to ONNX.

Run as ``python3 -m coinseg_train <command>`` from ``training/`` (or with ``PYTHONPATH=training``).
"""

__all__ = ["__version__"]

#: Version of the training code; recorded in checkpoints and model cards.
__version__ = "0.1.0"
