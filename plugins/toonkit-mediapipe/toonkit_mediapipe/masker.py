"""MediaPipe selfie segmentation as a toonkit masker (a frozen teacher, run through LiteRT/TFLite)."""
from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from toonkit.imaging import to_unit
from toonkit_mediapipe.model import model_path as resolve_model_path

SIZE = 256  # the model's fixed input and output resolution


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Drop what native code writes to file descriptor 2 meanwhile (LiteRT prints an INFO line about
    its XNNPACK delegate on every tensor allocation, which would litter progress bars and logs)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (embedded interpreters): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class MediaPipeSelfie(nn.Module):
    """MediaPipe selfie segmentation (TFLite) as a frozen person masker; returns mask logits.

    Behaves like toonkit's other maskers — photos in ``[-1, 1]`` in, person-mask **logits** out — so it
    can stand wherever a masker is expected (``toonkit data masks``, a recipe's
    ``data.mask_teacher``, a method's masker slot loaded as frozen). It is **not trainable**: the
    network runs in LiteRT outside autograd, has no torch parameters, and its output carries no
    gradient. Each image is resized to 256×256 RGB in ``[0, 1]`` (the model's input), the person
    probability map is resized back to the input size, clamped to ``[eps, 1 - eps]`` and turned into
    logits, so ``sigmoid`` of the output gives the probability back.

    The model file is found or fetched by :func:`toonkit_mediapipe.model.model_path` when the masker
    is built; the interpreter itself is created on first use in each process (DataLoader workers
    included) and runs on the CPU whatever device the input is on.

    Args:
        model_path: an explicit ``.tflite`` file; default: ``$TOONKIT_WEIGHTS_DIR``, the cache, or a
            download of MediaPipe's published model (sha256-checked).
        letterbox: pad the photo to a square before resizing (keeps the aspect ratio); MediaPipe's
            own graph stretches the image instead, which is the default.
        threads: LiteRT CPU threads (0: the runtime's default).
        eps: probabilities are clamped to ``[eps, 1 - eps]`` before the logit, so logits are finite.

    Shape:
        - Input: :math:`(N, 3, H, W)` RGB in ``[-1, 1]``.
        - Output: :math:`(N, 1, H, W)` logits of the person probability.

    Example:
        >>> import toonkit, torch
        >>> teacher = toonkit.build("masker", "mediapipe_selfie")
        >>> prob = torch.sigmoid(teacher(torch.rand(2, 3, 96, 128) * 2 - 1))  # (2, 1, 96, 128)
    """

    trainable = False

    def __init__(self, model_path: str | None = None, letterbox: bool = False, threads: int = 0,
                 eps: float = 1e-4) -> None:
        super().__init__()
        if not 0.0 < eps < 0.5:
            raise ValueError(f"eps must be in (0, 0.5), got {eps}")
        if threads < 0:
            raise ValueError(f"threads must be >= 0, got {threads}")
        self.model_file: Path = resolve_model_path(model_path)
        self.letterbox = letterbox
        self.threads = threads
        self.eps = eps
        self._runtime: Any = None  # (pid, interpreter, input index, output index), made lazily
        self._lock = threading.Lock()  # one interpreter is not safe to call from two threads at once

    # -- the TFLite side ----------------------------------------------------------------------
    def _interpreter(self) -> tuple[Any, int, int]:
        # re-create after a fork: a LiteRT interpreter (and its thread pool) must not cross processes
        if self._runtime is None or self._runtime[0] != os.getpid():
            from ai_edge_litert.interpreter import Interpreter

            interp = Interpreter(model_path=str(self.model_file), num_threads=self.threads or None)
            with _native_stderr_silenced():
                interp.allocate_tensors()
            self._runtime = (os.getpid(), interp, interp.get_input_details()[0]["index"],
                             interp.get_output_details()[0]["index"])
        return self._runtime[1], self._runtime[2], self._runtime[3]

    def _run(self, batch: np.ndarray) -> np.ndarray:
        """(N, 256, 256, 3) float32 in [0, 1] -> (N, 256, 256) person probability."""
        with self._lock:
            interp, inp, out = self._interpreter()
            if tuple(interp.get_input_details()[0]["shape"]) != batch.shape:
                interp.resize_tensor_input(inp, list(batch.shape))
                with _native_stderr_silenced():
                    interp.allocate_tensors()
            interp.set_tensor(inp, batch)
            interp.invoke()
            return interp.get_tensor(out)[..., 0].copy()

    # -- the torch side -----------------------------------------------------------------------
    @torch.no_grad()
    def probability(self, x: Tensor) -> Tensor:
        """Person probability in ``[0, 1]``, shape :math:`(N, 1, H, W)`, float32 on ``x.device``."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expected RGB images of shape (N, 3, H, W), got {tuple(x.shape)}")
        n, _, h, w = x.shape
        if n == 0:
            return x.new_zeros((0, 1, h, w), dtype=torch.float32)
        x01 = to_unit(x.float(), clamp=True)
        if self.letterbox:
            side = max(h, w)
            top, left = (side - h) // 2, (side - w) // 2
            x01 = F.pad(x01, (left, side - w - left, top, side - h - top))  # zeros, like BORDER_ZERO
        small = F.interpolate(x01, size=(SIZE, SIZE), mode="bilinear", align_corners=False,
                              antialias=True)
        batch = np.ascontiguousarray(small.permute(0, 2, 3, 1).cpu().numpy(), dtype=np.float32)
        prob = torch.from_numpy(self._run(batch)).to(x.device)[:, None]
        if self.letterbox:
            prob = F.interpolate(prob, size=(side, side), mode="bilinear", align_corners=False)
            prob = prob[:, :, top:top + h, left:left + w]
        else:
            prob = F.interpolate(prob, size=(h, w), mode="bilinear", align_corners=False)
        return prob.clamp(0, 1)

    def forward(self, x: Tensor) -> Tensor:
        prob = self.probability(x)
        logits = torch.logit(prob.clamp(self.eps, 1 - self.eps))
        return logits.to(x.dtype) if x.is_floating_point() else logits

    def extra_repr(self) -> str:
        return f"model_file={self.model_file.name}, letterbox={self.letterbox}, threads={self.threads}"

    def __getstate__(self) -> dict[str, Any]:  # deepcopy / pickling (spawned workers) without LiteRT
        state = self.__dict__.copy()
        state["_runtime"] = None
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
