"""Face detectors: components of kind ``face_detector`` that find faces for face-aware translation.

A face detector takes photos and returns, per photo, a list of :class:`Face` (a box, a score and five
landmarks when it has them). toonkit registers ``mtcnn``: the MTCNN cascade (Zhang et al. 2016) whose
weights ship inside the ``facenet-pytorch`` wheel (2 MB, MIT), run in PyTorch on the CPU; nothing is
downloaded at run time. It is an optional dependency (``pip install "toonkit[faces]"``): without it the
entry is still listed, and building it raises :class:`FaceDetectorUnavailable` with the install command.

A plugin brings another detector by registering a class with the same ``detect`` method::

    @hookimpl
    def toonkit_register(registry):
        registry.add("face_detector", "mine", MyDetector)   # MyDetector().detect(images) -> list[list[Face]]

Example:
    >>> import toonkit, torch
    >>> detector = toonkit.build("face_detector", "mtcnn")  # doctest: +SKIP
    >>> faces = detector.detect(torch.zeros(1, 3, 64, 64))[0]  # doctest: +SKIP
    >>> faces
    []
"""
from __future__ import annotations

import importlib.util
import math
import threading
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

import torch

from toonkit.errors import ToonkitError

#: what makes the built-in detector available
INSTALL_HINT = 'pip install "toonkit[faces]"  (or: pip install facenet-pytorch==2.5.3)'


class FaceDetectorUnavailable(ToonkitError, ImportError):
    """The detector's package is not installed; the message gives the install command."""


@dataclass(frozen=True)
class Face:
    """One detected face, in the pixel coordinates of the image it was found in.

    Attributes:
        box: ``(x0, y0, x1, y1)``, the face's box (forehead to chin, ear to ear at most).
        score: the detector's confidence in [0, 1].
        landmarks: five ``(x, y)`` points — the eye on the image's left, the other eye, the nose tip,
            the mouth corner on the image's left, the other — or None when the detector gives none.
    """

    box: tuple[float, float, float, float]
    score: float = 1.0
    landmarks: tuple[tuple[float, float], ...] | None = None

    @property
    def center(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2, (y0 + y1) / 2

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def roll(self) -> float:
        """In-plane rotation in degrees (eye line against the horizontal; 0 without landmarks)."""
        if not self.landmarks:
            return 0.0
        (lx, ly), (rx, ry) = self.landmarks[0], self.landmarks[1]
        return math.degrees(math.atan2(ry - ly, rx - lx))

    def scaled(self, sx: float, sy: float | None = None) -> Face:
        """The same face in an image resized by ``sx`` (and ``sy``, default ``sx``)."""
        sy = sx if sy is None else sy
        x0, y0, x1, y1 = self.box
        marks = tuple((x * sx, y * sy) for x, y in self.landmarks) if self.landmarks else None
        return replace(self, box=(x0 * sx, y0 * sy, x1 * sx, y1 * sy), landmarks=marks)


@runtime_checkable
class FaceDetector(Protocol):
    """What face-aware translation needs from a ``face_detector`` component."""

    def detect(self, images: torch.Tensor) -> list[list[Face]]:
        """Faces in each of ``images`` ((N, 3, H, W) RGB in [-1, 1]), highest score first."""
        ...


def facenet_available() -> bool:
    """Whether ``facenet-pytorch`` (which ships the MTCNN weights) is installed."""
    return importlib.util.find_spec("facenet_pytorch") is not None


class MTCNNDetector:
    """MTCNN face detection (P-, R- and O-net cascade) with the weights of the ``facenet-pytorch`` wheel.

    Finds frontal and moderately turned or tilted faces (about ±45° in plane) from ``min_face`` pixels
    up, and gives five landmarks per face (eyes, nose, mouth corners), which face-aware translation uses
    to align portraits upright. Large photos are searched at most ``max_side`` pixels on their long side
    (the boxes are scaled back), which bounds the time on a CPU. It is frozen: no parameters train.

    Args:
        min_face: the smallest face height searched for, in pixels of the searched image.
        threshold: the last stage's confidence needed to keep a face (MTCNN's own default is 0.7;
            0.9 drops most face-like patterns that are not faces, measured on the shared people photos).
        max_side: the longest side searched; larger photos are downscaled for the search.
        device: ``cpu`` or a CUDA device.

    Shape:
        - images: :math:`(N, 3, H, W)` in [-1, 1]
        - output: a list of N lists of :class:`Face`, highest score first.

    Example:
        >>> detector = MTCNNDetector()  # doctest: +SKIP
        >>> detector.detect(torch.zeros(2, 3, 96, 96))  # doctest: +SKIP
        [[], []]
    """

    trainable = False

    def __init__(self, min_face: int = 16, threshold: float = 0.9, max_side: int = 1280,
                 device: str = "cpu") -> None:
        if not facenet_available():
            raise FaceDetectorUnavailable(f"the face detector 'mtcnn' needs facenet-pytorch: {INSTALL_HINT}")
        if min_face < 8:
            raise ValueError(f"min_face must be >= 8 pixels (MTCNN's smallest window is 12), got {min_face}")
        if not 0 < threshold < 1:
            raise ValueError(f"threshold must be in (0, 1), got {threshold}")
        if max_side < 64:
            raise ValueError(f"max_side must be >= 64, got {max_side}")
        from facenet_pytorch import MTCNN

        self.min_face, self.threshold, self.max_side = int(min_face), float(threshold), int(max_side)
        self.device = torch.device(device)
        self._mtcnn = MTCNN(min_face_size=self.min_face, thresholds=[0.6, 0.7, self.threshold], keep_all=True,
                            select_largest=False, device=self.device).eval()
        self._lock = threading.Lock()  # the demo serves requests from worker threads

    @torch.no_grad()
    def detect(self, images: torch.Tensor) -> list[list[Face]]:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images of shape (N, 3, H, W), got {tuple(images.shape)}")
        h, w = images.shape[-2:]
        scale = min(1.0, self.max_side / max(h, w))
        x = images.float()
        if scale < 1.0:
            size = (max(1, round(h * scale)), max(1, round(w * scale)))
            x = torch.nn.functional.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
        if min(x.shape[-2:]) < 12:  # below MTCNN's smallest window: nothing can be found
            return [[] for _ in range(images.shape[0])]
        # MTCNN wants (N, H, W, 3) in 0..255
        hwc = ((x.clamp(-1, 1) + 1) * 127.5).permute(0, 2, 3, 1).contiguous().to(self.device)
        with self._lock:
            boxes, probs, points = self._mtcnn.detect(hwc, landmarks=True)
        out = []
        for b, p, pts in zip(boxes, probs, points):
            faces = []
            if b is not None:
                for box, prob, marks in zip(b, p, pts):
                    x0, y0, x1, y1 = (float(v) for v in box)
                    face = Face((x0, y0, x1, y1), float(prob),
                                tuple((float(u), float(v)) for u, v in marks))
                    faces.append(face.scaled(1 / scale) if scale < 1.0 else face)
            out.append(sorted(faces, key=lambda f: -f.score))
        return out

    def __repr__(self) -> str:
        return f"MTCNNDetector(min_face={self.min_face}, threshold={self.threshold}, max_side={self.max_side})"


def register(registry) -> None:
    registry.add("face_detector", "mtcnn", MTCNNDetector)
