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
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from toonkit.methods.spec import ModelSpec, load_method
from toonkit.translate import io
from toonkit.translate.background import composite
from toonkit.translate.colors import keep_colors
from toonkit.core.geometry import resize, run_padded, short_side_size
from toonkit.protocols import size_multiple
from toonkit.translate.errors import MaskerRequiredError, TranslateError
from toonkit.translate.faces import DEFAULT_FACE_SIZE, whole_image
from toonkit.translate.options import Size, TranslateOptions
from toonkit.translate.stored import load_masker, read_model, warn_if_untrained

if TYPE_CHECKING:
    from toonkit.translate.folder import FolderReport
    from toonkit.nets.face_detectors import Face
    from toonkit.translate.video import TemporalState

log = logging.getLogger("toonkit.translate")


# Largest output (and full-resolution working) size in pixels unless raised with ``max_pixels``: 16.8 MP
# (4096²) covers phone photos (12 MP) while bounding the memory of one image's tensors (~200 MB in fp32).
MAX_PIXELS = 4096 * 4096
# Default working short side, as a multiple of the training size: see :class:`Cartoonizer`.
WORK_SCALE = 2


class Cartoonizer:
    """Translate photos with a trained generator, and composite backgrounds with a person masker.

    Build one with :func:`toonkit.load` (or :meth:`from_pretrained`), which rebuilds a saved model through
    :func:`~toonkit.methods.spec.load_method`; construct it directly to wrap networks you built yourself.

    Args:
        generator: photo → cartoon network (images in [-1, 1]); its ``size_multiple`` is padded to.
        masker: optional person masker (images in [-1, 1] → logits), needed by background modes other
            than ``keep``.
        prepare_input: what the generator is fed for a photo (the method's ``prepare_input``,
            e.g. pix2pix's outline); identity by default.
        size: the training size (short side) of the generator; a loaded model sets it from its spec.
        spec: what the model is (:class:`~toonkit.methods.spec.ModelSpec`, restricted to the networks
            given here): what :meth:`save_pretrained` writes. None for networks built by hand.
        source: what was loaded, for messages (``toonkit translate`` prints it).
        work_size: the short side the generator runs at by default (``None``: ``WORK_SCALE`` × ``size``).
        max_pixels: the image budget: the most pixels an output may have (default :data:`MAX_PIXELS`,
            16.8 MP), and at most four times the side of that square on either side (16384); a larger
            input comes back downscaled to it, aspect kept, and a log line says so. PIL images and 8-bit
            arrays are reduced to it before any float copy is made.
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
                 spec: ModelSpec | None = None, source: str = "", device: str | torch.device = "auto",
                 amp: str = "off", channels_last: bool | None = None, work_size: int | None = None,
                 max_pixels: int = MAX_PIXELS) -> None:
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
        self.generator = generator.eval().to(self.device, self.generator_dtype).to(memory_format=self.memory_format)
        self.masker = (masker.eval().to(self.device).to(memory_format=self.memory_format)
                       if masker is not None else None)
        self.prepare_input = prepare_input or (lambda x: x)
        self.size = int(size)
        self.work_size = int(work_size) if work_size is not None else WORK_SCALE * self.size
        if self.work_size < 1 or int(max_pixels) < 1:
            raise TranslateError(f"work_size and max_pixels must be >= 1, got {self.work_size} and {max_pixels}")
        self.max_pixels = int(max_pixels)
        self.spec = spec
        self.source = source
        # faces="auto" and portraits(): a registered face_detector name, or a detector object, built on
        # first use (toonkit.translate.faces.get_detector); None: the default detector
        self.face_detector: Any = None

    # -- loading --------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, source: str | Path, device: str | torch.device = "auto", *,
                        masker: str | Path | bool | None = None, ema: bool = True, amp: str = "off",
                        channels_last: bool | None = None, max_pixels: int | None = None,
                        work_size: int | None = None) -> Cartoonizer:
        """Load a saved model for translation (this is :func:`toonkit.load`): a registered model, a model
        folder, a Hub model, a run or a checkpoint; the counterpart of :meth:`save_pretrained`.

        The one way back from a saved model: :func:`~toonkit.translate.stored.read_model` reads its spec and
        weights, :func:`~toonkit.methods.spec.load_method` rebuilds the method with the constructors training
        used, and the method's generator and masker become this translator.

        Args:
            source: a registered model name (``handpainted``; ``toonkit list model`` shows them), a model
                folder (:meth:`save_pretrained`), ``hf://owner/name[@revision]`` (needs
                ``huggingface_hub``; ``HF_HUB_OFFLINE=1`` reads only its cache), a run directory, its
                ``checkpoints/`` directory or a ``step_*.safetensors`` file.
            device: ``auto`` (CUDA, else MPS, else CPU), ``cpu``, ``cuda`` …
            masker: None uses the model's own masker when it has one; True requires it; a path (run,
                checkpoint, model folder, weights file) or registered masker name loads that one instead
                (:func:`~toonkit.translate.stored.load_masker`); False loads none.
            ema: for runs and checkpoints, the generator's EMA weights when the checkpoint has them (a model
                folder holds the weights it was saved with).
            amp, channels_last, max_pixels, work_size: see :class:`~toonkit.translate.api.Cartoonizer`
                (None: its defaults).

        Raises:
            TranslateError: ``source`` names nothing loadable (the message lists close model names), or
                ``masker=True`` for a model without one.
            ModelError: a model that cannot be read or rebuilt (one line naming the file).

        Example:
            >>> toon = toonkit.load("handpainted")  # doctest: +SKIP
            >>> toon.translate(Image.open("me.jpg"), background="white")  # doctest: +SKIP
        """
        stored = read_model(source, ema=ema)
        roles = stored.spec.method_class().roles
        own = masker is None or masker is True
        # the generator always (a spec without it is refused), the model's own masker when it is wanted
        own_masker = roles.masker if own and roles.masker in stored.spec.nets else None
        wanted = [roles.generator] + ([own_masker] if own_masker else [])
        method = load_method(stored.spec, stored.weights, nets=wanted, where=str(stored.path))
        mask_net = method.net[own_masker] if own_masker else None
        if masker is True and mask_net is None:
            raise MaskerRequiredError(f"{stored.label} has no masker")
        if mask_net is not None:
            warn_if_untrained(stored, method)
        elif isinstance(masker, (str, Path)):
            mask_net = load_masker(masker, stored.spec.nets.get(roles.masker) if roles.masker else None)
        return cls(method.net[roles.generator], mask_net, prepare_input=method.prepare_input,
                   size=stored.spec.size, spec=stored.spec.for_translation(masker=own_masker is not None),
                   source=stored.label, device=device, amp=amp, channels_last=channels_last,
                   work_size=work_size, max_pixels=MAX_PIXELS if max_pixels is None else max_pixels)

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
        """``hw`` scaled down (aspect kept) to the image budget: at most :attr:`max_pixels` pixels, and
        neither side above :func:`toonkit.imaging.max_side` of it (a 89 000 000 × 1 strip is bounded too)."""
        from toonkit.imaging import fit_pixels, max_side

        h, w = hw
        capped = fit_pixels(h, w, self.max_pixels)
        if capped == (h, w):
            return hw
        log.info("a %d×%d input is above max_pixels=%d (or %d a side): processed and returned at %d×%d (raise "
                 "max_pixels, CLI --max-pixels, for more)", w, h, self.max_pixels, max_side(self.max_pixels),
                 capped[1], capped[0])
        return capped

    def target_size(self, height: int, width: int, size: Size = None) -> tuple[int, int]:
        """The ``(H, W)`` an input of this size is returned at for ``size`` (see :class:`Cartoonizer`)."""
        TranslateOptions.of(size=size)  # checked
        if size is None or size == "original":
            return self._cap((height, width))
        assert isinstance(size, int)
        return self._cap(short_side_size(height, width, size))

    def working_size(self, height: int, width: int, size: Size = None) -> tuple[int, int]:
        """The ``(H, W)`` the generator runs at for an input of this size and ``size``.

        By default (``size`` None) the short side is :attr:`work_size`, and the whole working image stays
        within an image budget of ``4 × work_size²`` pixels (:func:`toonkit.imaging.fit_pixels`, both sides
        bounded): a 256 × 16384 panorama would otherwise run the generator on 4 M pixels, 4 GB.
        """
        from toonkit.imaging import SIDE_FACTOR, fit_pixels

        out = self.target_size(height, width, size)
        if size is None:
            if min(out) > self.work_size:
                out = short_side_size(*out, self.work_size)
            return fit_pixels(*out, SIDE_FACTOR * self.work_size ** 2)
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
    def paint(self, photo: torch.Tensor, colors: str = "style", mask: torch.Tensor | None = None) -> torch.Tensor:
        """The generator's output with the ``colors`` option applied: ``style`` as generated, ``keep``
        with the photo's colour statistics put back on the person (:func:`~toonkit.translate.colors.keep_colors`).

        Args:
            photo: photos in [-1, 1].
            colors: ``keep`` or ``style``.
            mask: the photos' person masks for ``keep`` when already computed; otherwise the masker's
                (the whole image without a masker).

        Shape:
            - Input: :math:`(N, 3, H, W)`; mask :math:`(N, 1, H, W)`
            - Output: :math:`(N, 3, H, W)` in [-1, 1], float32
        """
        generated = self.generate(photo)
        if colors != "keep":
            return generated
        if mask is None and self.masker is not None:
            mask = self.mask(photo)
        return keep_colors(self._prepare(photo), generated, mask)

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
                        **options: Any) -> torch.Tensor:
        """Translate a batch of same-size photos: resize for ``size``, translate, composite.

        Args:
            photo: photos in [-1, 1].
            background, size, **options: the :class:`~toonkit.translate.options.TranslateOptions`.

        Shape:
            - photo: :math:`(N, 3, H, W)`
            - Output: :math:`(N, 3, H', W')` (4 channels for ``transparent``) on the photo's device,
              :math:`(H', W')` = :meth:`target_size`.
        """
        return self._translate_batch(photo, TranslateOptions.of(background=background, size=size, **options))

    def _translate_batch(self, photo: torch.Tensor, opts: TranslateOptions,
                         state: TemporalState | None = None) -> torch.Tensor:
        """:meth:`translate_batch` with checked options; ``state`` carries face tracks and masks from one
        video frame to the next (:class:`~toonkit.translate.video.TemporalState`)."""
        whole_image(opts)
        if opts.needs_mask and self.masker is None:
            raise MaskerRequiredError(f"background '{opts.background}' needs a person masker, and this model has "
                                      "none: pass masker=... to load() (CLI: --masker FILE), or use 'keep'")
        height, width = photo.shape[-2:]
        hw = self.target_size(height, width, opts.size)
        # the full-size photo as given (float32 on the device): no channels-last copy at full size; the
        # networks get the working-size image, which generate and mask prepare themselves
        x = resize(photo.to(self.device, torch.float32), hw)
        work = resize(x, self.working_size(height, width, opts.size))
        keep = opts.colors == "keep"
        # faces found before the full-size cartoon exists: the detector's working memory (its image
        # pyramid) and the cartoon are never held at once
        found = self._find_faces(x, state) if opts.faces == "auto" else None
        wants_mask = opts.needs_mask or (keep and self.masker is not None)
        work_mask = self._work_mask(work, state.mask_scale if state is not None else 1.0) if wants_mask else None
        # keep: the photo's colour statistics back on the person (the whole image without a masker)
        cartoon = resize(self.paint(work, opts.colors, work_mask), hw)
        mask = resize(work_mask, hw).clamp(0, 1) if opts.needs_mask and work_mask is not None else None
        if found is not None:  # small faces painted, and masked, again at the model's scale
            cartoon, mask = self._paint_faces(x, cartoon, found, opts.colors, (work.shape[-2], work.shape[-1]), mask)
        if mask is not None and state is not None:
            mask = state.smooth_mask(mask)
        return composite(cartoon, x, mask, opts.background).to(photo.device)

    def _work_mask(self, work: torch.Tensor, scale: float) -> torch.Tensor:
        """The masker's soft mask of the working-size image, computed at ``scale`` of its size (video
        frames use a smaller one, :data:`~toonkit.translate.video.MASK_SCALE`) and resized back."""
        if scale >= 1.0:
            return self.mask(work)
        hw = (work.shape[-2], work.shape[-1])
        small = resize(work, (max(1, round(hw[0] * scale)), max(1, round(hw[1] * scale))))
        return resize(self.mask(small), hw).clamp(0, 1)

    def _find_faces(self, x: torch.Tensor, state: TemporalState | None) -> list[list[Face]] | None:
        """The faces of each image of ``x`` (tracked and smoothed over video frames with ``state``), or
        None without a detector (logged once: the whole image is translated as it is)."""
        from toonkit.translate.faces import get_detector

        detector = get_detector(self, required=False)
        if detector is None:
            return None
        found = detector.detect(x)
        if state is not None:  # video: tracked, smoothed boxes
            found = [state.faces(f) for f in found]
        return found

    def _paint_faces(self, x: torch.Tensor, cartoon: torch.Tensor, found: list[list[Face]], colors: str,
                     work_hw: tuple[int, int], mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``cartoon`` with the faces ``found`` in ``x`` that are small for the model repainted at its scale,
        and ``mask`` (when a background needs one) with them masked again at that scale."""
        from toonkit.translate.faces import paint_faces

        done = [paint_faces(self, x[i:i + 1], cartoon[i:i + 1], found[i], work_hw, colors,
                            None if mask is None else mask[i:i + 1]) for i in range(x.shape[0])]
        if len(done) == 1:  # one image (always, from translate): no concatenated copy, 200 MB at the budget
            return done[0]
        cartoons, masks = zip(*done)
        return torch.cat(cartoons), None if mask is None else torch.cat(masks)

    def translate(self, images: Any, background: str = "keep", size: Size = None,
                  batch_size: int = 8, **options: Any) -> Any:
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
            **options: the other :class:`~toonkit.translate.options.TranslateOptions` (an unknown name
                is a ``TypeError``): ``colors``, and ``faces="auto"`` to also translate each face that is
                small for the model (group and full-body photos) at the model's scale and blend it in
                (:mod:`toonkit.translate.faces`; needs a face detector, ``pip install "toonkit[faces]"``).
                ``toonkit translate`` and the demo default to ``faces="auto"`` (``benchmarks/faces.md``);
                the API stays ``off`` unless asked, so its output never depends on an optional package.
                For one portrait per face (``faces="crop"``), see :meth:`portraits`.

        Returns:
            The same kind as ``images``: PIL images (RGBA for ``transparent``), H×W×3 (×4) uint8
            arrays, or float tensors on the input's device (RGB in [-1, 1], plus alpha in [0, 1] as a
            fourth channel for ``transparent``); a list for a list. Outputs have the input's size
            unless ``size`` is an int or the input has more than ``max_pixels`` pixels.
        """
        opts = TranslateOptions.of(background=background, size=size, **options)  # checked before decoding
        whole_image(opts)
        single = not isinstance(images, (list, tuple))
        items = [images] if single else list(images)
        converted = [io.to_tensor(item, self.max_pixels) for item in items]  # reduced to the budget while 8-bit
        # every image on its own, so equal sizes batch together whatever the inputs' grouping
        flat = iter(self.translate_tensors([img[None] for c in converted for img in c.image],
                                           batch_size=batch_size, **opts.as_kwargs()))
        results = [io.from_tensor(torch.cat([next(flat) for _ in range(c.image.shape[0])]), c)
                   for c in converted]
        return results[0] if single else results

    def translate_tensors(self, images: Sequence[torch.Tensor], background: str = "keep", size: Size = None,
                          batch_size: int = 8, **options: Any) -> list[torch.Tensor]:
        """Translate single images, batching those of equal size; results in input order.

        Args:
            images: ``(1, 3, H, W)`` tensors in [-1, 1] (sizes may differ).
            background, size, **options: see :meth:`translate`.
            batch_size: the most images per forward pass.

        Returns:
            ``(1, C, H', W')`` tensors, one per input.
        """
        opts = TranslateOptions.of(background=background, size=size, **options).as_kwargs()
        results: list[torch.Tensor] = [torch.empty(0)] * len(images)
        for group in _groups(images, batch_size):
            # a group of one is passed as it is: concatenating copies it (200 MB at the image budget)
            batch = images[group[0]] if len(group) == 1 else torch.cat([images[i] for i in group])
            out = self.translate_batch(batch, **opts)
            for j, i in enumerate(group):
                results[i] = out[j:j + 1]
        return results

    def translate_folder(self, inputs: str | Path | Sequence[str | Path], out: str | Path, *,
                         format: str = "png", quality: int = 95, overwrite: bool = False, batch_size: int = 4,
                         progress: Callable[[Path, str | None], None] | None = None,
                         smoothing: bool = True, **options: Any) -> FolderReport:
        """Translate image files, folders (searched recursively) and globs into the folder ``out``, as
        ``toonkit translate`` does: each output keeps its input's relative path and stem, existing
        outputs are kept unless ``overwrite``, and a file that cannot be read or translated is reported
        and skipped while the others are written. Clips among the inputs (mp4, mov, webm, mkv, avi,
        animated GIF; ``pip install "toonkit[video]"``) are translated with the same options into the same
        container; ``faces="crop"`` writes one portrait per face of each photo, ``NAME_face0.png`` ….

        Args:
            inputs: files, folders or glob patterns (one or a list).
            out: the output folder (created when missing).
            format, quality: ``png``, ``jpg`` or ``webp``, and the jpg/webp quality.
            overwrite: replace outputs that exist.
            batch_size: images per forward pass.
            progress: called after each image or clip as ``progress(path, note)`` (``note`` None when it
                was written; see :data:`~toonkit.translate.folder.Progress`), e.g. to draw a progress bar.
            smoothing: clips: smooth face boxes and masks over frames.
            **options: the :class:`~toonkit.translate.options.TranslateOptions` (``background``, ``size`` …).

        Returns:
            a :class:`~toonkit.translate.folder.FolderReport` (``written``, ``kept``, ``failed`` …).

        Raises:
            InputError: an input names nothing, two inputs would write the same output, or clips with
                ``faces="crop"``.
            FacesUnavailableError: ``faces="crop"`` and no face detector is installed.

        Example:
            >>> report = toonkit.load("handpainted").translate_folder("photos/", "toons/")  # doctest: +SKIP
            >>> print(report.summary())  # doctest: +SKIP
            translated 3 images into toons
        """
        from toonkit.translate.folder import plan_folder, translate_planned

        opts = TranslateOptions.of(**options)  # checked before anything is searched or loaded
        specs = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
        plan = plan_folder(specs, out, format=format, overwrite=overwrite, portraits=opts.faces == "crop")
        return translate_planned(self, plan, opts, quality=quality, batch_size=batch_size, progress=progress,
                                 smoothing=smoothing)

    def portraits(self, image: Any, size: int = DEFAULT_FACE_SIZE, background: str = "keep",
                  **options: Any) -> list[Any]:
        """One translated, upright portrait per face of ``image``, largest face first (``--faces crop``).

        Args:
            image: one image, as for :meth:`translate`.
            size: the side of each square portrait (the ``face_size`` option).
            background: as for :meth:`translate`.
            **options: the other :class:`~toonkit.translate.options.TranslateOptions` (``colors``).

        Returns:
            ``size`` × ``size`` images of the input's kind; empty when no face is found.

        Raises:
            FacesUnavailableError: no face detector is installed (``pip install "toonkit[faces]"``).
        """
        from toonkit.translate.faces import find_portraits

        opts = TranslateOptions.of(background=background, face_size=size, faces="crop", **options)
        converted = io.to_tensor(image)
        return [io.from_tensor(p, converted) for p in find_portraits(self, converted.image[:1], opts)]

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


#: :func:`toonkit.load`: load a saved model for translation (see :meth:`Cartoonizer.from_pretrained`)
load = Cartoonizer.from_pretrained
