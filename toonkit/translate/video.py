"""Video translation: a clip in, the same clip cartoonised out, frame by frame, audio kept.

``translate_video(toon, "clip.mp4", "out/clip.mp4")`` decodes the clip with PyAV (FFmpeg inside its
wheel: ``pip install "toonkit[video]"``), translates each frame, encodes it at the input's frame size
and timing, and copies the audio packets unchanged. It streams: one frame at a time is held, so memory
stays flat for a clip of any length. The file is written under a temporary name beside the target and
renamed when complete, so an interrupted run never leaves a half-written file under the final name.

Frames are translated as still images would be, by the same code and with the same
:class:`~toonkit.translate.options.TranslateOptions` (``background``, ``colors``, ``faces``), plus two kinds
of temporal smoothing (:class:`TemporalState`): face boxes (``faces="auto"``) are tracked and averaged over
frames, so a face's repainted region does not jump, and person masks (background modes) are averaged over
frames. :func:`flicker` measures what is left.

Containers: mp4 and mov (H.264), webm (VP9), animated GIF (256-colour palette per frame), mkv and avi.

Example:
    >>> toon = toonkit.load("handpainted")  # doctest: +SKIP
    >>> translate_video(toon, "clip.mp4", "out/clip.mp4", progress=lambda done, total: None)  # doctest: +SKIP
"""
from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch

from toonkit.errors import ToonkitError
from toonkit.imaging import from_uint8, max_side, to_uint8
from toonkit.core.geometry import resize
from toonkit.nets.face_detectors import Face
from toonkit.translate.options import TranslateOptions

#: extensions treated as video (a ``.gif`` is a video when it has more than one frame)
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v"})
INSTALL_HINT = 'pip install "toonkit[video]"  (or: pip install av)'
#: per container: the video encoder and its options (quality-based rate control)
#: x264 at ``veryfast``: the encoder shares the cores with the model, and ``medium`` cost a third more of its
#: CPU time for files no smaller at CRF 18 on cartoon frames (benchmarks/video_speed.md)
_X264 = {"crf": "18", "preset": "veryfast"}
ENCODERS: dict[str, tuple[str, str, dict[str, str]]] = {
    # extension: (codec, pixel format, options)
    ".mp4": ("libx264", "yuv420p", _X264),
    ".m4v": ("libx264", "yuv420p", _X264),
    ".mov": ("libx264", "yuv420p", _X264),
    ".mkv": ("libx264", "yuv420p", _X264),
    ".webm": ("libvpx-vp9", "yuv420p", {"crf": "32", "b": "0", "row-mt": "1"}),
    ".avi": ("mpeg4", "yuv420p", {"qscale": "3"}),
    ".gif": ("gif", "pal8", {}),
}
#: the share of the previous (smoothed) mask kept in each frame's mask
MASK_SMOOTHING = 0.6
#: the share of the previous (smoothed) face box kept in each frame's box
BOX_SMOOTHING = 0.7
#: frames a tracked face survives without being detected (detectors miss a face now and then)
FACE_PATIENCE = 3
#: the masker's input side in video frames, as a share of the working size: at half size it costs a quarter
#: (58 → about 18 ms of a 480p frame on 2 CPU cores, benchmarks/video_speed.md); its soft mask only
#: weights the colour keeping and the background blend, which the mask smoothing averages over frames anyway
MASK_SCALE = 0.5
#: frames translated as one batch: on 2 CPU cores the convolutions of two frames keep both cores busier than
#: one frame's (a few per cent more frames/s on 2 CPU cores in interleaved checks); smoothing still runs frame by frame
FRAME_BATCH = 2
#: frames larger than this (1080p) are translated one at a time: memory follows the image budget for one frame
BATCH_MAX_PIXELS = 1920 * 1080


class VideoError(ToonkitError):
    """A clip cannot be read or written (one line: what is wrong with which file)."""

    usage = False


class VideoUnavailableError(VideoError):
    """PyAV is not installed."""

    usage = True


def check_av() -> Any:
    """Import PyAV or raise :class:`VideoUnavailableError` with the install command."""
    if importlib.util.find_spec("av") is None:
        raise VideoUnavailableError(f"translating videos needs PyAV: {INSTALL_HINT}")
    import av

    return av


def is_video(path: str | Path) -> bool:
    """Whether ``path`` is a clip: a video extension, or a GIF with more than one frame."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return True
    if suffix == ".gif":
        from PIL import Image

        try:
            with Image.open(path) as im:
                return bool(getattr(im, "is_animated", False))
        except (OSError, ValueError):
            return False  # the image path reports it as undecodable
    return False


# -- temporal smoothing -------------------------------------------------------------------------------
def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@dataclass
class _Track:
    face: Face
    missed: int = 0


@dataclass
class TemporalState:
    """What carries from one frame to the next: tracked faces and the previous person mask.

    Args:
        box_smoothing: share of the previous box kept (0: no smoothing, each frame's own detection).
        mask_smoothing: share of the previous mask kept (0: no smoothing).
        patience: frames a face survives undetected before it is dropped.
        mask_scale: the masker's input size as a share of the working size (1: the size a still image gets).
    """

    box_smoothing: float = BOX_SMOOTHING
    mask_smoothing: float = MASK_SMOOTHING
    patience: int = FACE_PATIENCE
    mask_scale: float = MASK_SCALE
    tracks: list[_Track] = field(default_factory=list)
    mask: torch.Tensor | None = None

    def faces(self, detected: Sequence[Face]) -> list[Face]:
        """Update the tracks with one frame's detections; the smoothed faces to paint in this frame.

        Each detection joins the track whose box overlaps it most (IoU > 0.3) and moves that box
        ``1 - box_smoothing`` of the way to it; a new face starts a track; a track not matched for more
        than ``patience`` frames ends.
        """
        a = self.box_smoothing
        unmatched = list(detected)
        for track in self.tracks:
            best = max(unmatched, key=lambda f: _iou(f.box, track.face.box), default=None)
            if best is not None and _iou(best.box, track.face.box) > 0.3:
                unmatched.remove(best)
                x0, y0, x1, y1 = (a * p + (1 - a) * n for p, n in zip(track.face.box, best.box))
                marks = best.landmarks
                if track.face.landmarks and best.landmarks:
                    marks = tuple((a * p[0] + (1 - a) * n[0], a * p[1] + (1 - a) * n[1])
                                  for p, n in zip(track.face.landmarks, best.landmarks))
                track.face, track.missed = Face((x0, y0, x1, y1), best.score, marks), 0
            else:
                track.missed += 1
        self.tracks = [t for t in self.tracks if t.missed <= self.patience]
        self.tracks += [_Track(f) for f in unmatched]
        return [t.face for t in self.tracks]

    def smooth_mask(self, mask: torch.Tensor) -> torch.Tensor:
        """Each frame's mask averaged with the previous smoothed mask (exponential moving average), in
        order along the batch: ``mask`` is :math:`(N, 1, H, W)` for N consecutive frames."""
        smoothed = []
        for frame in mask.split(1):
            if self.mask is not None and self.mask.shape == frame.shape and self.mask_smoothing > 0:
                frame = self.mask_smoothing * self.mask + (1 - self.mask_smoothing) * frame
            self.mask = frame
            smoothed.append(frame)
        return torch.cat(smoothed) if len(smoothed) > 1 else smoothed[0]


def check_video_options(options: TranslateOptions) -> None:
    """Raise :class:`VideoError` for options a clip cannot take (its frames keep their size, no alpha)."""
    if options.background == "transparent":
        raise VideoError("background transparent needs an alpha channel, which these video encoders "
                         "do not keep: use white, blur, original or keep")
    if options.faces == "crop":
        raise VideoError("faces crop writes portraits of photos, not of videos: use faces auto or off")
    if isinstance(options.size, int):
        raise VideoError(f"size {options.size} resizes images; a video's frames keep their size (leave size "
                         "out, or use 'original' to translate them at full resolution)")


@torch.no_grad()
def translate_frame(toon: Any, frame: torch.Tensor, state: TemporalState | None = None,
                    options: TranslateOptions | None = None) -> torch.Tensor:
    """Frames as :meth:`Cartoonizer.translate_batch` translates images with ``options``, plus temporal
    smoothing through ``state`` (in order along the batch); returned at the frames' size.

    Shape:
        - frame: :math:`(N, 3, H, W)` in [-1, 1], N consecutive frames
        - Output: :math:`(N, C, H, W)` (C = 4 for ``transparent``)
    """
    out = toon._translate_batch(frame, options or TranslateOptions(), state)
    hw = (frame.shape[-2], frame.shape[-1])
    # a frame above the model's max_pixels comes back smaller: the encoder needs the clip's own size
    return out if tuple(out.shape[-2:]) == hw else resize(out, hw)


# -- reading and writing ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClipInfo:
    """What the output must keep: frame size, frame rate, time base; the frame count (estimated from the
    duration when the container does not count frames; 0: unknown)."""

    width: int
    height: int
    rate: Fraction
    time_base: Fraction
    frames: int
    has_audio: bool


def probe(path: str | Path) -> ClipInfo:
    """Open a clip and describe its first video stream.

    Raises:
        VideoError: not a readable container, no video stream, or a codec FFmpeg cannot decode.
    """
    av = check_av()
    path = Path(path)
    try:
        with av.open(str(path)) as container:
            return _info(container, path)
    except av.FFmpegError as exc:
        raise VideoError(f"{path}: cannot read this video ({_reason(exc)})") from None


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(": '")[0].strip()


def _info(container: Any, path: Path) -> ClipInfo:
    if not container.streams.video:
        raise VideoError(f"{path}: the file holds no video stream")
    stream = container.streams.video[0]
    if stream.codec_context is None or not stream.codec_context.name:
        raise VideoError(f"{path}: its video codec cannot be decoded")
    rate = Fraction(stream.average_rate or stream.guessed_rate or stream.base_rate or Fraction(25))
    time_base = Fraction(stream.time_base or Fraction(1, 90000))
    frames = int(stream.frames or 0)
    if not frames:  # webm and some mkv do not count frames: estimate from the duration (progress, ETA)
        if stream.duration:
            frames = round(stream.duration * time_base * rate)
        elif container.duration:
            frames = round(Fraction(container.duration, 1_000_000) * rate)
    return ClipInfo(stream.codec_context.width, stream.codec_context.height, rate, time_base, frames,
                    bool(container.streams.audio))


def _frames(container: Any, path: Path) -> Iterator[tuple[Any, Any]]:
    """Demux the clip: ``("video", frame)`` for decoded frames, ``("audio", packet)`` for audio packets."""
    av = check_av()
    video = container.streams.video[0]
    audio = container.streams.audio[0] if container.streams.audio else None
    streams = [video] + ([audio] if audio is not None else [])
    try:
        for packet in container.demux(streams):
            if packet.stream.index == video.index:
                for frame in packet.decode():
                    yield "video", frame
            elif packet.dts is not None:
                yield "audio", packet
    except av.FFmpegError as exc:
        raise VideoError(f"{path}: cannot decode frame ({_reason(exc)}); the file may be truncated") from None


def _open_output(av: Any, target: Path, suffix: str, info: ClipInfo, audio_in: Any) -> tuple[Any, Any, Any]:
    fmt = {".gif": "gif", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi"}.get(suffix, "mp4")
    codec, pix_fmt, options = ENCODERS.get(suffix, ENCODERS[".mp4"])
    out = av.open(str(target), mode="w", format=fmt)
    stream = out.add_stream(codec, rate=info.rate, options=dict(options))
    stream.width, stream.height, stream.pix_fmt = info.width, info.height, pix_fmt
    stream.codec_context.time_base = info.time_base
    audio_out = None
    if audio_in is not None and suffix != ".gif":
        audio_out = out.add_stream_from_template(audio_in)
    return out, stream, audio_out


def translate_video(toon: Any, src: str | Path, dst: str | Path, background: str = "keep", *,
                    smoothing: bool = True, progress: Callable[[int, int], None] | None = None,
                    root: str | Path | None = None, mask_scale: float = MASK_SCALE, batch: int = FRAME_BATCH,
                    **options: Any) -> int:
    """Translate every frame of ``src`` into ``dst`` (same frame size, frame rate and timing, audio kept).

    Args:
        toon: a :class:`~toonkit.translate.Cartoonizer`.
        src: the clip (mp4, mov, webm, mkv, avi, animated GIF).
        dst: the output file; its extension picks the container and encoder (:data:`ENCODERS`).
        background: as for :meth:`Cartoonizer.translate` (``transparent`` is not possible in video).
        smoothing: smooth face boxes and masks over frames (:class:`TemporalState`).
        mask_scale: the masker's input size as a share of the working size (:data:`MASK_SCALE`; 1 masks
            each frame as a still image is masked).
        batch: frames translated together (:data:`FRAME_BATCH`) when they are at most
            :data:`BATCH_MAX_PIXELS`; larger frames go one at a time.
        progress: called with ``(frames done, frames expected)`` after each frame (expected 0: unknown).
        root: the output folder ``dst`` must stay inside, with no link on the way (as for every writer,
            :func:`toonkit.io_utils.atomic_write`).
        **options: the other :class:`~toonkit.translate.options.TranslateOptions`, as for
            :meth:`Cartoonizer.translate`: ``colors``, ``faces`` (``off`` or ``auto``: faces small for the
            model repainted at its scale, boxes tracked and smoothed over frames), ``size`` (None or
            ``"original"``: the frames keep their size).

    Returns:
        The number of frames written.

    Raises:
        VideoError: the clip cannot be read (truncated, no video stream, no frames, unknown codec) or
            the output cannot be written; nothing is left under ``dst``.
    """
    from toonkit.io_utils import atomic_write

    opts = TranslateOptions.of(background=background, **options)  # a misspelt option is a TypeError
    check_video_options(opts)
    if batch < 1 or not 0 < mask_scale <= 1:
        raise ValueError(f"batch must be >= 1 and mask_scale in (0, 1], got {batch} and {mask_scale}")
    av = check_av()
    src, dst = Path(src), Path(dst)
    suffix = dst.suffix.lower()
    if suffix not in ENCODERS:
        raise VideoError(f"{dst}: unknown video container (use one of {', '.join(sorted(ENCODERS))})")
    state = TemporalState(mask_scale=mask_scale) if smoothing else TemporalState(
        box_smoothing=0.0, mask_smoothing=0.0, patience=0, mask_scale=mask_scale)
    written = 0

    def write(tmp: Path) -> None:
        nonlocal written
        try:
            container = av.open(str(src))
        except av.FFmpegError as exc:
            raise VideoError(f"{src}: cannot read this video ({_reason(exc)})") from None
        with container:
            info = _info(container, src)
            budget = getattr(toon, "max_pixels", None)
            if budget is not None and (info.width * info.height > budget
                                       or max(info.width, info.height) > max_side(budget)):
                # memory follows the image budget; frames are not shrunk, the clip keeps its frame size
                raise VideoError(f"{src}: {info.width}×{info.height} frames are over the image budget of "
                                 f"{budget:,} pixels, {max_side(budget):,} a side (raise it with --max-pixels, "
                                 "or max_pixels= in Python)")
            if info.width % 2 or info.height % 2:
                if ENCODERS[suffix][1] == "yuv420p":
                    raise VideoError(f"{src}: {info.width}×{info.height} has an odd side, which "
                                     f"{ENCODERS[suffix][0]} cannot encode; use a .gif output or crop it")
            audio_in = container.streams.audio[0] if info.has_audio else None
            try:
                out, stream, audio_out = _open_output(av, tmp, suffix, info, audio_in)
            except (av.FFmpegError, ValueError) as exc:
                raise VideoError(f"{dst}: cannot write this container ({_reason(exc)})") from None
            pending: list[Any] = []  # decoded frames waiting to be translated together
            per_batch = batch if info.width * info.height <= BATCH_MAX_PIXELS else 1

            def flush() -> None:
                nonlocal written
                if not pending:
                    return
                rgb = torch.stack([torch.from_numpy(f.to_ndarray(format="rgb24")).permute(2, 0, 1) for f in pending])
                y = translate_frame(toon, from_uint8(rgb).contiguous(), state, opts)
                for i, item in enumerate(pending):
                    array = to_uint8(y[i, :3].cpu()).permute(1, 2, 0).contiguous().numpy()
                    frame = video_frame(array, palette=suffix == ".gif")
                    frame.pts, frame.time_base = item.pts, item.time_base
                    out.mux(stream.encode(frame))
                    written += 1
                    if progress is not None:
                        progress(written, info.frames)
                pending.clear()

            with out:
                for kind, item in _frames(container, src):
                    if kind == "audio":
                        if audio_out is not None:
                            item.stream = audio_out
                            out.mux(item)
                        continue
                    pending.append(item)
                    if len(pending) >= per_batch:
                        flush()
                flush()
                if written == 0:
                    raise VideoError(f"{src}: the video stream holds no frames")
                out.mux(stream.encode(None))

    try:
        atomic_write(dst, write, by_path=True, fsync=False, root=root)
    except av.FFmpegError as exc:
        raise VideoError(f"{dst}: cannot encode ({_reason(exc)})") from None
    return written


def video_frame(array: np.ndarray, palette: bool = False) -> Any:
    """An ``(H, W, 3)`` uint8 array as a PyAV frame; ``palette``: 256 colours chosen for this frame (GIF).

    FFmpeg's GIF encoder takes palette images, and its scaler cannot make them from RGB; PIL's octree
    quantiser picks each frame's own 256 colours (no dithering, which would crawl from frame to frame).
    """
    av = check_av()
    if not palette:
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")
    from PIL import Image

    quantised = Image.fromarray(np.ascontiguousarray(array)).quantize(
        256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    colours = np.zeros((256, 4), np.uint8)
    rgb = np.asarray((quantised.getpalette() or [])[:768], np.uint8).reshape(-1, 3)
    colours[:len(rgb), 0], colours[:len(rgb), 1:] = 255, rgb  # ARGB rows
    return av.VideoFrame.from_ndarray((np.asarray(quantised), colours), format="pal8")


# -- flicker ------------------------------------------------------------------------------------------
def read_frames(path: str | Path, limit: int | None = None) -> Iterator[np.ndarray]:
    """Decoded RGB frames of a clip, ``(H, W, 3)`` uint8, one at a time."""
    av = check_av()
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if limit is not None and i >= limit:
                return
            yield frame.to_ndarray(format="rgb24")


def flicker(inputs: Sequence[np.ndarray] | Iterator[np.ndarray], outputs: Sequence[np.ndarray] | Iterator[np.ndarray],
            still: float = 2.0 / 255) -> float:
    """Temporal flicker a translation adds: where the input is still, how much more the output changes.

    For each pair of consecutive frames, the pixels whose input changes by less than ``still`` (mean over
    RGB, in [0, 1]) form the still region; the measure is the mean absolute change of the output there
    minus that of the input, averaged over frame pairs (in [0, 1] units; 0: no added flicker).

    Args:
        inputs, outputs: the frames (``(H, W, 3)`` uint8), same count and size.
        still: the largest input change that counts as still.
    """
    total, pairs = 0.0, 0
    prev_in: torch.Tensor | None = None
    prev_out: torch.Tensor | None = None
    for a, b in zip(inputs, outputs):
        x = torch.from_numpy(np.asarray(a)).float() / 255
        y = torch.from_numpy(np.asarray(b)).float() / 255
        if prev_in is not None and prev_out is not None:
            dx = (x - prev_in).abs().mean(-1)
            dy = (y - prev_out).abs().mean(-1)
            region = dx < still
            if region.any():
                total += float(dy[region].mean() - dx[region].mean())
                pairs += 1
        prev_in, prev_out = x, y
    return total / pairs if pairs else math.nan

