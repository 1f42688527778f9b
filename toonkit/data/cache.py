"""On-disk cache of edge-smoothed cartoons.

The edge-smoothed twin of a cartoon depends only on the cartoon file and the loading/smoothing
parameters, so it is computed once per image at the load size and stored as a PNG named by a hash of
(absolute path, modification time, file size, parameters). Editing or replacing a cartoon, or changing
``load_size`` or the smoothing parameters, selects a new entry; stale entries are simply never read
(:meth:`SmoothCache.prune` deletes them). Writes are atomic, so DataLoader workers can share a cache.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from toonkit.augment.edge_smooth import EdgeSmooth
from toonkit.data.decode import DecodeError
from toonkit.data.transforms import LOADER_VERSION, load_resized
from toonkit.imaging import from_uint8, to_uint8
from toonkit.io_utils import atomic_write

__all__ = ["SmoothCache", "smooth_uint8"]

logger = logging.getLogger("toonkit.data")

PathLike = str | os.PathLike

_CACHE_VERSION = "smooth-v1"


def smooth_uint8(image: Tensor, smoother: EdgeSmooth) -> Tensor:
    """Edge-smooth uint8 RGB images, (3, H, W) or (N, 3, H, W), and return uint8 of the same shape."""
    x = from_uint8(image)
    with torch.no_grad():
        y = smoother(x.unsqueeze(0) if x.ndim == 3 else x)
    return to_uint8(y.squeeze(0) if image.ndim == 3 else y)


class SmoothCache:
    """Edge-smoothed twins of cartoon files at one load size, cached as PNG files.

    Args:
        root: cache directory (created on first write).
        load_size: the shorter side cartoons are resized to before smoothing (``None``: original size);
            must be the dataset's load size so that the twin aligns with the loaded cartoon.
        low_threshold, high_threshold, dilate, blur: :class:`~toonkit.augment.EdgeSmooth` parameters.

    Example:
        >>> cache = SmoothCache("~/.cache/toonkit/smooth", load_size=256)  # doctest: +SKIP
        >>> smooth = cache.get("cartoons/1.jpg")  # computed once, then read back: 3×256×W uint8
    """

    def __init__(
        self,
        root: PathLike,
        load_size: int | None = 256,
        low_threshold: float = 100.0,
        high_threshold: float = 200.0,
        dilate: int = 5,
        blur: int = 5,
    ) -> None:
        self.root = Path(root).expanduser()
        self.load_size = load_size
        self.smoother = EdgeSmooth(low_threshold, high_threshold, dilate, blur)
        params = {"version": _CACHE_VERSION, "loader": LOADER_VERSION, "load_size": load_size,
                      "low": low_threshold, "high": high_threshold, "dilate": dilate, "blur": blur}
        self.params_hash = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]

    def key(self, path: PathLike) -> str:
        """Cache key of a cartoon file: its absolute path, mtime, size and the parameters."""
        p = Path(path).resolve()
        st = p.stat()
        ident = f"{p}\0{st.st_mtime_ns}\0{st.st_size}\0{self.params_hash}"
        return hashlib.sha1(ident.encode()).hexdigest()

    def file_for(self, path: PathLike) -> Path:
        """Where the smoothed twin of ``path`` is (or will be) stored."""
        k = self.key(path)
        return self.root / k[:2] / f"{k}.png"

    def get(self, path: PathLike, cartoon: Tensor | None = None) -> Tensor:
        """The smoothed twin of ``path``, computed and stored if missing.

        Args:
            path: the cartoon file.
            cartoon: the already loaded cartoon at the load size (3×H×W uint8), to avoid decoding it
                twice; it must come from :func:`~toonkit.data.transforms.load_resized` with this
                cache's ``load_size``.

        Shape:
            - output: (3, H, W) uint8, the size of the loaded cartoon

        Raises:
            DecodeError: the cartoon cannot be decoded.
        """
        target = self.file_for(path)
        if target.is_file():
            try:
                with Image.open(target) as im:
                    arr = np.asarray(im.convert("RGB"))
                twin = torch.from_numpy(arr.copy()).permute(2, 0, 1)
                if cartoon is None or twin.shape == cartoon.shape:
                    return twin
            except (OSError, ValueError, SyntaxError):  # a damaged entry is recomputed
                logger.debug("recomputing damaged cache entry %s", target)
        if cartoon is None:
            cartoon = load_resized(path, self.load_size)
        twin = smooth_uint8(cartoon, self.smoother)
        self._write(target, twin)
        return twin

    def _write(self, target: Path, twin: Tensor) -> None:
        # atomic: concurrent readers see the old or the new file
        image = Image.fromarray(twin.permute(1, 2, 0).numpy())
        atomic_write(target, lambda fh: image.save(fh, format="PNG", compress_level=1), fsync=False)

    def warm(self, paths: Iterable[PathLike], chunk: int = 32) -> int:
        """Compute every missing twin now (e.g. before DataLoader workers start); returns how many.

        Cartoons are loaded ``chunk`` at a time and those of equal size are smoothed as one batch.
        Files that fail to decode are skipped with a warning (datasets validate files beforehand).
        """
        targets = ((Path(p), self.file_for(p)) for p in paths)  # file_for: resolve, stat and hash, once
        todo = [(p, target) for p, target in targets if not target.is_file()]
        computed = 0
        for start in range(0, len(todo), chunk):
            groups: dict[tuple[int, ...], list[tuple[Path, Tensor]]] = {}
            for p, target in todo[start:start + chunk]:
                try:
                    img = load_resized(p, self.load_size)
                except DecodeError as e:
                    logger.warning("not caching %s: %s", p, e.reason)
                    continue
                groups.setdefault(tuple(img.shape), []).append((target, img))
            for items in groups.values():
                twins = smooth_uint8(torch.stack([img for _, img in items]), self.smoother)
                for (target, _), twin in zip(items, twins):
                    self._write(target, twin)
                    computed += 1
        return computed

    def prune(self, keep: Iterable[PathLike]) -> int:
        """Delete cache files other than the current entries of ``keep``; returns how many."""
        wanted = {self.file_for(p) for p in keep if Path(p).exists()}
        removed = 0
        for f in self.root.glob("*/*.png"):
            if f not in wanted:
                f.unlink(missing_ok=True)
                removed += 1
        return removed

    def __repr__(self) -> str:
        return f"SmoothCache(root={str(self.root)!r}, load_size={self.load_size}, params={self.params_hash})"
