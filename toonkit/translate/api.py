"""The translation API: :func:`load` a run or checkpoint, then :meth:`Cartoonizer.translate` images.

Example:
    >>> import toonkit
    >>> toon = toonkit.load("runs/quickstart")  # doctest: +SKIP
    >>> cartoon = toon.translate(PIL.Image.open("me.jpg"), background="white")  # doctest: +SKIP
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from toonkit.translate import io
from toonkit.translate.background import NEEDS_MASK, check_background, composite
from toonkit.translate.geometry import resize, run_padded, short_side_size, size_multiple
from toonkit.translate.errors import MaskerRequiredError, TranslateError
from toonkit.translate.faces import check_faces

log = logging.getLogger("toonkit.translate")

Size = int | str | None  # a short side, "original", or None for the input's size (see Cartoonizer)
Faces = str | Sequence[Sequence[Any]]  # "off" | "auto", or each photo's faces found beforehand

# Largest output (and full-resolution working) size in pixels unless raised with ``max_pixels``: 16.8 MP
# (4096²) covers phone photos (12 MP) while bounding the memory of one image's tensors (~200 MB in fp32).
MAX_PIXELS = 4096 * 4096
# Default working short side, as a multiple of the training size: see :class:`Cartoonizer`.
WORK_SCALE = 2


class Cartoonizer:
    """Translate photos with a trained generator, and composite backgrounds with a person masker.

    Build one with :func:`load` (or :meth:`from_checkpoint`); construct it directly to wrap networks you
    built yourself.

    Args:
        generator: photo → cartoon network (images in [-1, 1]); its ``size_multiple`` is padded to.
        masker: optional person masker (images in [-1, 1] → logits), needed by background modes other
            than ``keep``.
        prepare_input: what the generator is fed for a photo (the method's ``prepare_input``,
            e.g. pix2pix's outline); identity by default.
        size: the training size (short side) of the generator; a loaded run sets it from its recipe.
        work_size: the short side the generator runs at by default (``None``: ``WORK_SCALE`` × ``size``).
        max_pixels: the most pixels an output may have (default :data:`MAX_PIXELS`, 16.8 MP); a larger
            input comes back downscaled to this many pixels, aspect kept, and a log line says so.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:1`` …
        amp: ``off``, ``bf16`` or ``fp16`` autocast for the networks. On the CPU, ``bf16`` also stores
            the generator's weights in bf16 and runs it without autocast: autocast would re-cast every
            weight on every call, which took a third of the time (``benchmarks/perf.md``); for the
            built-in generators the output is the same bit for bit.
        channels_last: run the networks in channels-last memory format. ``None`` (default) turns it on
            for the CPU, where it measured 1.15–1.33× faster in fp32 and 1.9–2.5× in bf16 for every
            built-in generator with a masker (``benchmarks/translate_speed.md``), and off elsewhere.

    Output size: by default an image comes back at its own resolution (capped by ``max_pixels``). The
    generator does not run at that resolution: a network trained on 256² crops sees a face in a 1280-pixel
    photo at a scale it never learned (thin, noisy strokes instead of flat regions), and the cost grows
    with the pixel count. It runs at the working short side ``work_size`` (twice the training size by
    default; an input smaller than that runs at its own size), and the cartoon and its mask are upsampled
    (bilinear) to the output size, where the backgrounds (``original``, ``blur``) use the photo at full
    resolution. ``size=N`` translates and returns at short side N, ``size="original"`` translates at the
    input's own resolution (both capped by ``max_pixels``).

    Example:
        >>> import toonkit
        >>> g = toonkit.build("generator", "cartoongan", base_channels=8, res_blocks=1)
        >>> toon = Cartoonizer(g, size=32, device="cpu")
        >>> toon.translate(torch.zeros(3, 45, 60), size="original").shape
        torch.Size([3, 45, 60])
        >>> toon.translate(torch.zeros(3, 1055, 1280)).shape  # translated at short side 64, upsampled
        torch.Size([3, 1055, 1280])
    """

    # whether CPU bf16 stores the generator's weights in bf16 (subclasses that optimise through the
    # network, like neural style transfer, keep fp32 weights under autocast)
    cast_generator: bool = True

    def __init__(self, generator: nn.Module, masker: nn.Module | None = None, *,
                 prepare_input: Callable[[torch.Tensor], torch.Tensor] | None = None, size: int = 256,
                 device: str | torch.device = "auto", amp: str = "off", channels_last: bool | None = None,
                 work_size: int | None = None, max_pixels: int = MAX_PIXELS) -> None:
        from toonkit.core.runtime import DeviceError, amp_dtype, pick_device

        try:
            self.device = pick_device(str(device), setting="device")
            # `auto` never changes numerics unasked here: translation stays fp32 unless told otherwise
            self.amp = amp_dtype("off" if amp == "auto" else amp, self.device, setting="amp")
        except DeviceError as exc:
            raise TranslateError(str(exc)) from None
        if channels_last is None:
            channels_last = self.device.type == "cpu"
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        # the generator's own dtype when it runs in low precision without autocast (CPU bf16), else None
        self.generator_dtype = (torch.bfloat16 if self.cast_generator and self.device.type == "cpu"
                                and self.amp == torch.bfloat16 else None)
        self.generator = generator.eval().to(self.device, self.generator_dtype, memory_format=self.memory_format)
        self.masker = (masker.eval().to(self.device, memory_format=self.memory_format)
                       if masker is not None else None)
        self.prepare_input = prepare_input or (lambda x: x)
        self.size = int(size)
        self.work_size = int(work_size) if work_size is not None else WORK_SCALE * self.size
        if self.work_size < 1 or int(max_pixels) < 1:
            raise TranslateError(f"work_size and max_pixels must be >= 1, got {self.work_size} and {max_pixels}")
        self.max_pixels = int(max_pixels)
        self.source: str = ""
        # the network blocks and training size this model was loaded from (what save_pretrained writes)
        self.config: dict[str, Any] | None = None
        # faces="auto"/portraits(): a registered face_detector name, or a detector object (faces.py)
        self.face_detector: Any = None

    # -- loading --------------------------------------------------------------------------------
    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "auto",
                        masker: str | Path | bool | None = None, ema: bool = True, amp: str = "off",
                        channels_last: bool | None = None, max_pixels: int | None = None,
                        work_size: int | None = None) -> Cartoonizer:
        """Rebuild a run's generator (and masker) from its newest checkpoint or a checkpoint file.

        Args:
            path: run directory, its ``checkpoints/`` directory, or one ``step_*.safetensors`` file.
            device: see :class:`Cartoonizer`.
            masker: None uses the run's own masker when it has one; a path or registered name loads
                that one instead (:func:`load_masker`); False loads none.
            ema: use the generator's EMA weights when the checkpoint has them.
            amp: see :class:`Cartoonizer`.
            channels_last: see :class:`Cartoonizer`.
            max_pixels, work_size: see :class:`Cartoonizer` (None: its defaults).
        """
        from toonkit.core.checkpoint import CheckpointError, read_checkpoint
        from toonkit.translate.rebuild import build_net, saved_method_class, warn_if_untrained, choose_masker

        try:
            ckpt = read_checkpoint(path)
        except CheckpointError as exc:
            raise TranslateError(str(exc)) from None
        recipe = ckpt.recipe or {}
        method = (recipe.get("method") or {}).get("type")
        if not method:
            raise TranslateError(f"{ckpt.path}: the checkpoint's recipe names no method")
        method_cls = saved_method_class(method)
        slot = method_cls.generator_slot
        nets = recipe.get("nets") or {}
        if not nets.get(slot) or slot not in ckpt.nets:
            raise TranslateError(f"{ckpt.path}: method '{method}' translates with network '{slot}', "
                                 f"which the checkpoint does not hold (it has: {', '.join(ckpt.nets)})")
        generator = build_net(method_cls.nets[slot].kind, nets[slot], ckpt.weights(slot, prefer_ema=ema),
                               str(ckpt.path))
        own = ckpt.weights("masker") if "masker" in ckpt.nets else None
        mask_net = choose_masker(masker, nets.get("masker"), own, f"{ckpt.path}: the run")
        if mask_net is not None and masker in (None, True):
            warn_if_untrained(ckpt.phase, method_cls, recipe, ckpt.path)
        size = int((recipe.get("data") or {}).get("size", 256))
        toon = cls(generator, mask_net, prepare_input=method_cls.prepare_input, size=size, device=device,
                   amp=amp, channels_last=channels_last, work_size=work_size,
                   **({"max_pixels": max_pixels} if max_pixels is not None else {}))
        toon.source = f"{ckpt.path} (step {ckpt.step}, {method}{', EMA' if ema and slot in ckpt.ema else ''})"
        toon.config = {"method": method, "size": size,
                       "nets": {"generator": nets[slot], **({"masker": nets["masker"]} if mask_net is not None
                                                           and masker in (None, True) else {})}}
        return toon

    def save_pretrained(self, folder: str | Path, **kwargs: Any) -> Path:
        """Write this model as a folder (config, fp16 safetensors, model card) that :func:`load` reads;
        see :func:`toonkit.translate.pretrained.save_pretrained` for the options."""
        from toonkit.translate.pretrained import save_pretrained

        return save_pretrained(self, folder, **kwargs)

    # -- translation ----------------------------------------------------------------------------
    @property
    def has_masker(self) -> bool:
        return self.masker is not None

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.amp is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp)

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.device, torch.float32).contiguous(memory_format=self.memory_format)

    def _cap(self, hw: tuple[int, int]) -> tuple[int, int]:
        """``hw`` scaled down (aspect kept) to at most :attr:`max_pixels` pixels."""
        h, w = hw
        if h * w <= self.max_pixels:
            return hw
        scale = (self.max_pixels / (h * w)) ** 0.5
        capped = max(1, int(h * scale)), max(1, int(w * scale))
        log.info("a %d×%d input is above max_pixels=%d: processed and returned at %d×%d (raise max_pixels, "
                 "CLI --max-pixels, for more)", w, h, self.max_pixels, capped[1], capped[0])
        return capped

    def _check_size(self, size: Size) -> None:
        if size is None or size == "original":
            return
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"size must be a positive int, 'original' or None, got {size!r}")

    def target_size(self, height: int, width: int, size: Size = None) -> tuple[int, int]:
        """The ``(H, W)`` an input of this size is returned at for ``size`` (see :class:`Cartoonizer`)."""
        self._check_size(size)
        if size is None or size == "original":
            return self._cap((height, width))
        return self._cap(short_side_size(height, width, size))

    def working_size(self, height: int, width: int, size: Size = None) -> tuple[int, int]:
        """The ``(H, W)`` the generator runs at for an input of this size and ``size``."""
        out = self.target_size(height, width, size)
        if size is None and min(out) > self.work_size:
            return short_side_size(*out, self.work_size)
        return out

    @torch.no_grad()
    def generate(self, photo: torch.Tensor) -> torch.Tensor:
        """The generator's output for photos of any size (padded to its multiple, cropped back).

        Shape:
            - Input: :math:`(N, 3, H, W)` in [-1, 1]
            - Output: :math:`(N, 3, H, W)` in [-1, 1], float32
        """
        x = self._prepare(photo)
        dtype = self.generator_dtype
        with contextlib.nullcontext() if dtype is not None else self._autocast():
            y = run_padded(lambda t: self.generator(self.prepare_input(t).to(dtype)), x, size_multiple(self.generator))
        return y.float().clamp(-1, 1)

    @torch.no_grad()
    def mask(self, photo: torch.Tensor) -> torch.Tensor:
        """Soft person masks in [0, 1] for photos of any size.

        Shape:
            - Input: :math:`(N, 3, H, W)` in [-1, 1]
            - Output: :math:`(N, 1, H, W)` in [0, 1], float32
        """
        if self.masker is None:
            raise MaskerRequiredError("no masker loaded: pass masker=... to load(), or use --masker FILE")
        x = self._prepare(photo)
        with self._autocast():
            logits = run_padded(self.masker, x, size_multiple(self.masker))
        return torch.sigmoid(logits.float())

    @torch.no_grad()
    def translate_batch(self, photo: torch.Tensor, background: str = "keep", size: Size = None,
                        faces: Faces = "off") -> torch.Tensor:
        """Translate a batch of same-size photos: resize for ``size``, translate, composite.

        Args:
            photo: photos in [-1, 1].
            background: one of :data:`toonkit.translate.background.BACKGROUNDS`.
            size: ``None`` (the input's size, translated at :attr:`work_size`), a short side, or
                ``"original"``; see :class:`Cartoonizer`.
            faces: ``"off"``, ``"auto"`` (repaint faces that are small for the model at its scale,
                :mod:`toonkit.translate.faces`), or the faces of each photo (at the output size) as
                found beforehand, e.g. smoothed over the frames of a video.

        Shape:
            - photo: :math:`(N, 3, H, W)`
            - Output: :math:`(N, 3, H', W')` (4 channels for ``transparent``) on the photo's device,
              :math:`(H', W')` = :meth:`target_size`.
        """
        check_background(background)
        if background in NEEDS_MASK and self.masker is None:
            raise MaskerRequiredError(f"background '{background}' needs a person masker, and this run has "
                                      "none: pass masker=... to load() (CLI: --masker FILE), or use 'keep'")
        hw = self.target_size(*photo.shape[-2:], size)
        x = resize(self._prepare(photo), hw)
        work = resize(x, self.working_size(*photo.shape[-2:], size))
        cartoon = resize(self.generate(work), hw)
        if not isinstance(faces, str) or faces != "off":
            cartoon = self._paint_faces(x, cartoon, faces, tuple(work.shape[-2:]))
        mask = resize(self.mask(work), hw).clamp(0, 1) if background in NEEDS_MASK else None
        return composite(cartoon, x, mask, background).to(photo.device)

    def translate(self, images: Any, background: str = "keep", size: Size = None,
                  batch_size: int = 8, faces: str = "off") -> Any:
        """Cartoonise a PIL image, a NumPy HWC uint8 array, a tensor, or a list of them.

        Args:
            images: a PIL image (any mode: grayscale, RGBA, palette, 16-bit …), a NumPy array (H×W or
                H×W×C with C in 1, 3, 4; uint8, uint16 or float in [0, 1]), a float tensor in [-1, 1]
                (C×H×W or N×C×H×W, C in 1, 3), or a list mixing them.
            background: ``keep``, ``white``, ``blur``, ``original`` or ``transparent``.
            size: ``None`` (default): each output has its input's size (at most ``max_pixels``),
                translated at the working short side :attr:`work_size` and upsampled; an int: translate
                and return at that short side; ``"original"``: translate at each input's own size.
            batch_size: images per forward pass (same-size images are batched together).
            faces: ``"off"`` or ``"auto"``: also translate each face that is small for the model
                (group and full-body photos) at the model's scale and blend it in
                (:mod:`toonkit.translate.faces`; needs a face detector, ``pip install "toonkit[faces]"``).
                ``toonkit translate`` and the demo default to ``auto`` (``benchmarks/faces.md``); the API
                stays ``off`` unless asked, so its output never depends on an optional package.
                For one portrait per face, see :meth:`portraits`.

        Returns:
            The same kind as ``images``: PIL images (RGBA for ``transparent``), H×W×3 (×4) uint8
            arrays, or float tensors on the input's device (RGB in [-1, 1], plus alpha in [0, 1] as a
            fourth channel for ``transparent``); a list for a list. Outputs have the input's size
            unless ``size`` is an int or the input has more than ``max_pixels`` pixels.
        """
        check_background(background)
        if faces == "crop":
            raise ValueError("faces='crop' returns several images per photo: use portraits() for it")
        check_faces(faces)
        single = not isinstance(images, (list, tuple))
        items = [images] if single else list(images)
        converted = [io.to_tensor(item) for item in items]
        # every image on its own, so equal sizes batch together whatever the inputs' grouping
        flat = iter(self.translate_tensors([img[None] for c in converted for img in c.image], background,
                                           size, batch_size, faces=faces))
        results = [io.from_tensor(torch.cat([next(flat) for _ in range(c.image.shape[0])]), c)
                   for c in converted]
        return results[0] if single else results

    def translate_tensors(self, images: Sequence[torch.Tensor], background: str = "keep", size: Size = None,
                          batch_size: int = 8, faces: str = "off") -> list[torch.Tensor]:
        """Translate single images, batching those of equal size; results in input order.

        Args:
            images: ``(1, 3, H, W)`` tensors in [-1, 1] (sizes may differ).
            background, size, faces: see :meth:`translate`.
            batch_size: the most images per forward pass.

        Returns:
            ``(1, C, H', W')`` tensors, one per input.
        """
        results: list[torch.Tensor] = [torch.empty(0)] * len(images)
        for group in _groups(images, batch_size):
            out = self.translate_batch(torch.cat([images[i] for i in group]), background, size, faces)
            for j, i in enumerate(group):
                results[i] = out[j:j + 1]
        return results

    def _paint_faces(self, x: torch.Tensor, cartoon: torch.Tensor, faces: Faces,
                     work_hw: tuple[int, int]) -> torch.Tensor:
        from toonkit.translate.faces import get_detector, paint_faces

        if isinstance(faces, str):
            check_faces(faces)
            detector = get_detector(self, required=False)
            if detector is None:
                return cartoon
            faces = detector.detect(x)
        return torch.cat([paint_faces(self, x[i:i + 1], cartoon[i:i + 1], faces[i], work_hw)
                          for i in range(x.shape[0])])

    def portraits(self, image: Any, size: int = 256, background: str = "keep") -> list[Any]:
        """One translated, upright portrait per face of ``image``, largest face first (``--faces crop``).

        Args:
            image: one image, as for :meth:`translate`.
            size: the side of each square portrait.
            background: as for :meth:`translate`.

        Returns:
            ``size`` × ``size`` images of the input's kind; empty when no face is found.

        Raises:
            FacesUnavailableError: no face detector is installed (``pip install "toonkit[faces]"``).
        """
        from toonkit.translate.faces import find_portraits

        check_background(background)
        converted = io.to_tensor(image)
        return [io.from_tensor(p, converted) for p in find_portraits(self, converted.image[:1], size, background)]

    def __repr__(self) -> str:
        masker = type(self.masker).__name__ if self.masker is not None else None
        return (f"Cartoonizer(generator={type(self.generator).__name__}, masker={masker}, size={self.size}, "
                f"device={self.device}{', ' + str(self.amp).replace('torch.', '') if self.amp else ''})")


def _groups(images: Sequence[torch.Tensor], batch_size: int) -> list[list[int]]:
    """Indices of ``images`` grouped by shape, at most ``batch_size`` images per group, in input order."""
    by_shape: dict[tuple[int, ...], list[list[int]]] = {}
    order: list[list[int]] = []
    for i, img in enumerate(images):
        key = tuple(img.shape[1:])
        chunks = by_shape.setdefault(key, [])
        if not chunks or len(chunks[-1]) >= max(1, batch_size):
            chunks.append([])
            order.append(chunks[-1])
        chunks[-1].append(i)
    return order
