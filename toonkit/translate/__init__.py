"""Translation: cartoonise images with a trained model (or neural style transfer), composite backgrounds,
translate folders, export generators to ONNX and TorchScript.

Example:
    >>> import toonkit
    >>> toon = toonkit.load("runs/quickstart")  # doctest: +SKIP
    >>> toon.translate(Image.open("me.jpg"), background="white").save("me_toon.png")  # doctest: +SKIP
"""
from toonkit.translate.api import Cartoonizer, load
from toonkit.translate.background import BACKGROUNDS, NEEDS_MASK, composite, gaussian_blur
from toonkit.translate.errors import MaskerRequiredError, TranslateError
from toonkit.translate.stored import load_masker

__all__ = ["BACKGROUNDS", "NEEDS_MASK", "Cartoonizer", "MaskerRequiredError", "TranslateError", "composite",
           "gaussian_blur", "load", "load_masker"]
