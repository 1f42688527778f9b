"""Export a run's generator (optionally with its masker composite) to ONNX or TorchScript, and check it.

The exported graph takes photos ``(N, 3, H, W)`` in [-1, 1] with H and W multiples of
:attr:`TranslateModule.size_multiple` and returns the cartoon (named ``cartoon``), plus the person mask
(``mask``) when the masker is included. Every export is run again from the written file (ONNX Runtime
for ONNX, ``torch.jit.load`` for TorchScript) against eager PyTorch on a few inputs, and
:func:`verify_export` reports the largest absolute difference.
"""
from __future__ import annotations

import contextlib
import copy
import importlib.util
import logging
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from toonkit.translate.background import NEEDS_MASK, blur_sigma, check_background, composite
from toonkit.protocols import size_multiple
from toonkit.errors import ToonkitError, describe_error

if TYPE_CHECKING:
    from toonkit.translate.api import Cartoonizer

EXPORT_FORMATS: tuple[str, ...] = ("onnx", "torchscript")


class ExportError(ToonkitError, RuntimeError):
    """An export that cannot be made as asked (a size the networks do not take, a background without a
    masker, a missing exporter package); the message says why."""


class ExportFailed(ExportError):
    """Exporting, or running the exported file to check it, failed (exit 1)."""

    usage = False


class TranslateModule(nn.Module):
    """The exported network: ``prepare_input`` → generator (→ masker → background composite).

    Args:
        generator: photo → cartoon network.
        prepare_input: the method's input transform (identity for most methods).
        masker: person masker giving logits; when given, the module also returns the mask.
        background: background mode applied with the mask (``keep`` returns the raw cartoon).
        sigma: blur in pixels for ``background="blur"`` (fixed at export time).

    Shape:
        - Input: :math:`(N, 3, H, W)` in [-1, 1], H and W multiples of :attr:`size_multiple`.
        - Output: cartoon :math:`(N, 3, H, W)` (4 channels for ``transparent``); with a masker, also
          the mask :math:`(N, 1, H, W)` in [0, 1].
    """

    def __init__(self, generator: nn.Module, prepare_input: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 masker: nn.Module | None = None, background: str = "keep", sigma: float = 4.0) -> None:
        super().__init__()
        check_background(background)
        if background in NEEDS_MASK and masker is None:
            raise ExportError(f"background '{background}' needs a masker: export with the masker included")
        self.generator = generator
        self.masker = masker
        self._prepare = prepare_input
        self.background = background
        self.sigma = float(sigma)
        multiples = [size_multiple(generator)] + ([size_multiple(masker)] if masker is not None else [])
        self.size_multiple = math.lcm(*multiples)

    @property
    def output_names(self) -> list[str]:
        return ["cartoon", "mask"] if self.masker is not None else ["cartoon"]

    def forward(self, photo: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        x = self._prepare(photo) if self._prepare is not None else photo
        cartoon = self.generator(x)
        if self.masker is None:
            return cartoon
        mask = torch.sigmoid(self.masker(photo))
        return composite(cartoon, photo, mask, self.background, self.sigma), mask


def build_module(toon: Cartoonizer, with_masker: bool = False, background: str = "keep",
                 size: tuple[int, int] = (256, 256)) -> TranslateModule:
    """The :class:`TranslateModule` of a loaded :class:`~toonkit.translate.Cartoonizer`, on CPU, fp32."""
    if with_masker and toon.masker is None:
        raise ExportError("--with-masker: the run has no masker (pass --masker FILE)")

    def cpu(net: nn.Module) -> nn.Module:  # a copy: the Cartoonizer keeps its device and precision
        return copy.deepcopy(net).float().to("cpu").to(memory_format=torch.contiguous_format).eval()

    masker = cpu(toon.masker) if with_masker and toon.masker is not None else None
    return TranslateModule(cpu(toon.generator), toon.prepare_input, masker, background, blur_sigma(*size)).eval()


@contextlib.contextmanager
def _quiet_loggers(*names: str) -> Iterator[None]:
    """Raise these loggers to WARNING for a while: the ONNX optimiser logs every pass at INFO."""
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(lg.level, logging.WARNING))
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def export_onnx(module: TranslateModule, path: str | Path, size: tuple[int, int], dynamic: bool = False,
                opset: int | None = None, exporter: str = "auto") -> str:
    """Write ``module`` as ONNX; returns the exporter used (``dynamo`` or ``torchscript``).

    Args:
        module: what to export.
        path: output ``.onnx`` file.
        size: ``(H, W)`` of the example input (and the fixed input size without ``dynamic``).
        dynamic: make batch, height and width dynamic (H, W stay multiples of ``size_multiple``).
        opset: ONNX opset (default: the exporter's own: 18 for dynamo, 17 for the legacy exporter).
        exporter: ``dynamo`` (``torch.export``-based, needs onnxscript), ``torchscript`` (the legacy
            tracer) or ``auto`` (dynamo when onnxscript is installed).
    """
    if not _have("onnx"):
        raise ExportError("ONNX export needs the 'onnx' package: pip install 'toonkit[export]'")
    if exporter == "auto":
        exporter = "dynamo" if _have("onnxscript") else "torchscript"
    if exporter == "dynamo" and not _have("onnxscript"):
        raise ExportError("the dynamo ONNX exporter needs 'onnxscript': pip install onnxscript, "
                          "or use --exporter torchscript")
    example = torch.zeros(1, 3, *size)
    names = module.output_names
    with warnings.catch_warnings(), _quiet_loggers("onnxscript", "onnx_ir", "torch.onnx"):
        warnings.simplefilter("ignore")  # exporter deprecation and trace chatter; the check below decides
        if exporter == "dynamo":
            shapes = None
            if dynamic:
                from torch.export import Dim

                m = module.size_multiple
                shapes = ({0: Dim("batch", max=1024), 2: m * Dim("h", min=1, max=16384 // m),
                           3: m * Dim("w", min=1, max=16384 // m)},)
            program = torch.onnx.export(module, (example,), dynamo=True, input_names=["photo"],
                                        output_names=names, dynamic_shapes=shapes, opset_version=opset,
                                        verbose=False, optimize=True)
            if program is None:
                raise ExportFailed("the dynamo ONNX exporter returned no program")
            program.save(str(path))
        else:
            axes = {n: {0: "batch", 2: "height", 3: "width"} for n in ["photo", *names]} if dynamic else None
            torch.onnx.export(module, (example,), str(path), dynamo=False, input_names=["photo"],
                              output_names=names, dynamic_axes=axes, opset_version=opset or 17)
    return exporter


def export_torchscript(module: TranslateModule, path: str | Path, size: tuple[int, int]) -> str:
    """Trace ``module`` on a ``(1, 3, H, W)`` example and save it (``torch.jit.load`` reads it back).

    The generators and maskers have no data-dependent control flow, so the trace works for any batch
    size and any H, W that are multiples of ``size_multiple``.
    """
    example = torch.zeros(1, 3, *size)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, example, check_trace=False)
        torch.jit.save(traced, str(path))
    return "trace"


@dataclass
class Check:
    """One comparison of the exported file with eager PyTorch."""

    shape: tuple[int, ...]
    max_abs_diff: float


def check_shapes(size: tuple[int, int], multiple: int, dynamic: bool) -> list[tuple[int, ...]]:
    """Input shapes to compare on: three at the export size, or a spread of batch and sizes if dynamic."""
    h, w = size
    if not dynamic:
        return [(1, 3, h, w)] * 3
    return [(1, 3, h, w), (2, 3, h, w), (1, 3, h + multiple, w + 2 * multiple)]


def _runner(fmt: str, path: Path) -> Callable[[torch.Tensor], list[torch.Tensor]]:
    if fmt == "onnx":
        if not _have("onnxruntime"):
            raise ExportError("checking an ONNX export needs 'onnxruntime': pip install 'toonkit[export]'")
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda x: [torch.from_numpy(o) for o in session.run(None, {name: x.numpy()})]
    loaded = torch.jit.load(str(path), map_location="cpu").eval()

    def run_ts(x: torch.Tensor) -> list[torch.Tensor]:
        with torch.no_grad():
            out = loaded(x)
        return list(out) if isinstance(out, (tuple, list)) else [out]

    return run_ts


def verify_export(module: TranslateModule, fmt: str, path: str | Path, shapes: Sequence[tuple[int, ...]],
                  seed: int = 0) -> list[Check]:
    """Run the exported file and eager ``module`` on random inputs of ``shapes``; the max |difference|.

    Inputs are smooth random images (noise upsampled) in [-1, 1], closer to photos than white noise.
    """
    run = _runner(fmt, Path(path))
    gen = torch.Generator().manual_seed(seed)
    checks = []
    for shape in shapes:
        n, c, h, w = shape
        coarse = torch.rand(n, c, max(1, h // 8), max(1, w // 8), generator=gen) * 2 - 1
        x = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
        x = (x + 0.1 * (torch.rand(shape, generator=gen) * 2 - 1)).clamp(-1, 1)
        with torch.no_grad():
            ref = module(x)
        ref = list(ref) if isinstance(ref, (tuple, list)) else [ref]
        try:
            got = run(x)
        except Exception as exc:  # noqa: BLE001 - a runtime failure of the export is a check failure
            raise ExportFailed(f"running the exported {fmt} file on input {tuple(shape)} failed: "
                              f"{describe_error(exc, limit=None)}") from None
        if len(got) != len(ref) or any(g.shape != r.shape for g, r in zip(got, ref)):
            raise ExportFailed(f"the exported {fmt} file returned shapes {[tuple(g.shape) for g in got]}, "
                              f"PyTorch {[tuple(r.shape) for r in ref]} for input {tuple(shape)}")
        diff = max(float((g.float() - r.float()).abs().max()) for g, r in zip(got, ref))
        checks.append(Check(tuple(shape), diff))
    return checks


def export(module: TranslateModule, fmt: str, path: str | Path, size: tuple[int, int], dynamic: bool = False,
           opset: int | None = None, exporter: str = "auto") -> tuple[str, list[Check]]:
    """Export ``module`` as ``fmt`` to ``path`` and verify it; returns (exporter used, checks).

    Raises:
        ExportError: the format is unknown or the size not a multiple of the networks' ``size_multiple``.
        ExportFailed: the export failed, or the file could not be run.
    """
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (options: {', '.join(EXPORT_FORMATS)})")
    m = module.size_multiple
    if size[0] % m or size[1] % m:
        raise ExportError(f"--size {size[0]} {size[1]}: height and width must be multiples of {m} "
                          f"(e.g. {-(-size[0] // m) * m} {-(-size[1] // m) * m})")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if fmt == "onnx":
            used = export_onnx(module, path, size, dynamic, opset, exporter)
        else:
            used = export_torchscript(module, path, size)
    except ExportError:
        raise
    except Exception as exc:  # noqa: BLE001 - the exporter's own error, as one line
        raise ExportFailed(f"{fmt} export failed: {describe_error(exc, limit=None)}") from exc
    checks = verify_export(module, fmt, path, check_shapes(size, m, dynamic))
    return used, checks
