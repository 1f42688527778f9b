"""Video translation: containers in and out, timing and audio kept, bad clips, smoothing, flicker.

Clips are made here with PyAV: a few frames of a moving square (and a sine tone for the audio track).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from toonkit.nets.face_detectors import Face
from toonkit.translate import Cartoonizer

av = pytest.importorskip("av", reason="needs PyAV (pip install toonkit[video])")

from toonkit.translate.options import TranslateOptions  # noqa: E402
from toonkit.translate.video import (TemporalState, VideoError, flicker, is_video, probe,  # noqa: E402
                                     read_frames, translate_frame, translate_video, video_frame)

ENC = {".mp4": ("mp4", "libx264", "yuv420p"), ".mov": ("mov", "libx264", "yuv420p"),
       ".webm": ("webm", "libvpx-vp9", "yuv420p"), ".gif": ("gif", "gif", "pal8"),
       ".mkv": ("matroska", "libx264", "yuv420p"), ".avi": ("avi", "mpeg4", "yuv420p")}


def frame_array(i: int, h: int, w: int) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = np.linspace(30, 200, w, dtype=np.uint8)[None]
    img[..., 2] = 90
    x = 4 + 3 * i
    img[h // 3:h // 3 + 12, x:x + 12] = (250, 240, 40)
    return img


def make_clip(path: Path, frames: int = 6, size: tuple[int, int] = (48, 64), rate: int = 12,
              audio: bool = False) -> Path:
    """A small clip: ``frames`` frames of ``size`` (H, W) at ``rate`` fps, optionally with a 440 Hz tone."""
    fmt, codec, pix = ENC[path.suffix]
    h, w = size
    with av.open(str(path), "w", format=fmt) as out:
        vs = out.add_stream(codec, rate=rate)
        vs.width, vs.height, vs.pix_fmt = w, h, pix
        aus = None
        if audio:
            aus = out.add_stream("aac" if fmt != "webm" else "libopus", rate=48000)
            aus.layout = "mono"
        for i in range(frames):
            frame = video_frame(frame_array(i, h, w), palette=pix == "pal8")
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        if aus is not None:
            samples = 48000 * frames // rate
            t = np.arange(samples) / 48000
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
            step = 960
            for start in range(0, samples, step):
                af = av.AudioFrame.from_ndarray(tone[:, start:start + step], format="fltp", layout="mono")
                af.sample_rate = 48000
                af.pts = start
                out.mux(aus.encode(af))
            out.mux(aus.encode(None))
    return path


class Shift(torch.nn.Module):
    """A stand-in generator: brightens the image (so the output is visibly the input, translated)."""

    size_multiple = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * 0.5 + 0.4).clamp(-1, 1)


@pytest.fixture
def toon() -> Cartoonizer:
    return Cartoonizer(Shift(), size=32, device="cpu", channels_last=False)


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".webm", ".gif", ".mkv", ".avi"])
def test_containers_keep_size_rate_and_frames(tmp_path: Path, toon: Cartoonizer, suffix: str) -> None:
    rate = 10 if suffix == ".gif" else 12  # GIF delays are in hundredths of a second
    src = make_clip(tmp_path / f"clip{suffix}", rate=rate)
    dst = tmp_path / "out" / f"clip{suffix}"
    seen: list[tuple[int, int]] = []
    # colors=style: the stand-in generator's brightening is what shows the frames were translated
    n = translate_video(toon, src, dst, colors="style", progress=lambda done, total: seen.append((done, total)))
    assert n == 6 and [d for d, _ in seen] == list(range(1, 7))
    a, b = probe(src), probe(dst)
    assert (b.width, b.height) == (a.width, a.height) == (64, 48)
    assert b.rate == a.rate == Fraction(rate)
    out = list(read_frames(dst))
    assert len(out) == 6
    inp = list(read_frames(src))
    # translated: brighter than the input, same picture (the moving square is still where it was)
    assert out[3].mean() > inp[3].mean() + 20
    yellow_in = inp[3][..., 2] < 100
    assert np.corrcoef(out[3][..., 0].ravel(), inp[3][..., 0].ravel())[0, 1] > 0.8 or yellow_in.any()
    assert not [p for p in dst.parent.iterdir() if p.name != dst.name]  # no temporary left


def test_audio_track_is_copied(tmp_path: Path, toon: Cartoonizer) -> None:
    src = make_clip(tmp_path / "talk.mp4", frames=12, audio=True)
    dst = tmp_path / "out" / "talk.mp4"
    translate_video(toon, src, dst)
    with av.open(str(src)) as a, av.open(str(dst)) as b:
        assert len(b.streams.audio) == 1
        sa, sb = a.streams.audio[0], b.streams.audio[0]
        assert (sb.codec_context.name, sb.rate) == (sa.codec_context.name, sa.rate)
        pa = [bytes(p) for p in a.demux(sa) if p.size]
        pb = [bytes(p) for p in b.demux(sb) if p.size]
    assert pa == pb  # the same packets: copied, not re-encoded


def test_animated_gif_is_a_video_single_frame_gif_is_an_image(tmp_path: Path) -> None:
    from PIL import Image

    anim = make_clip(tmp_path / "a.gif", frames=3)
    Image.new("RGB", (20, 20), (9, 9, 9)).save(tmp_path / "still.gif")
    assert is_video(anim) and not is_video(tmp_path / "still.gif")
    assert is_video(tmp_path / "any.mp4")


def test_bad_clips_are_one_line_errors_and_leave_nothing(tmp_path: Path, toon: Cartoonizer) -> None:
    good = make_clip(tmp_path / "good.mp4", frames=8)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    not_video = tmp_path / "notes.mp4"
    not_video.write_bytes(b"this is not a video at all" * 20)
    audio_only = tmp_path / "audio.mp4"
    with av.open(str(audio_only), "w") as out:
        s = out.add_stream("aac", rate=48000)
        s.layout = "mono"
        af = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        af.sample_rate = 48000
        out.mux(s.encode(af))
        out.mux(s.encode(None))
    for bad in (truncated, not_video, audio_only):
        dst = tmp_path / "out" / bad.name
        with pytest.raises(VideoError) as info:
            translate_video(toon, bad, dst)
        assert "\n" not in str(info.value) and bad.name in str(info.value)
        assert not dst.exists()
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True


def test_zero_frame_clip(tmp_path: Path, toon: Cartoonizer) -> None:
    empty = tmp_path / "empty.mp4"
    with av.open(str(empty), "w") as out:
        s = out.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
    with pytest.raises(VideoError, match="no frames|no video|cannot read"):
        translate_video(toon, empty, tmp_path / "out" / "empty.mp4")
    assert not (tmp_path / "out" / "empty.mp4").exists()


def test_face_tracks_are_smoothed_and_survive_a_miss() -> None:
    state = TemporalState(box_smoothing=0.5, patience=2)
    a = state.faces([Face((0, 0, 10, 10))])
    b = state.faces([Face((4, 0, 14, 10))])  # moved by 4: the smoothed box moves by 2
    assert a[0].box == (0, 0, 10, 10) and b[0].box == pytest.approx((2, 0, 12, 10))
    c = state.faces([])  # missed once: still painted where it was
    assert c and c[0].box == b[0].box
    state.faces([])
    assert state.faces([]) == []  # dropped after `patience` misses
    off = TemporalState(box_smoothing=0.0)
    off.faces([Face((0, 0, 10, 10))])
    assert off.faces([Face((4, 0, 14, 10))])[0].box == (4, 0, 14, 10)


def test_mask_smoothing_averages_frames() -> None:
    state = TemporalState(mask_smoothing=0.5)
    one, zero = torch.ones(1, 1, 4, 4), torch.zeros(1, 1, 4, 4)
    assert torch.equal(state.smooth_mask(one), one)
    assert torch.allclose(state.smooth_mask(zero), torch.full_like(zero, 0.5))


def test_flicker_measures_added_change_where_input_is_still() -> None:
    rng = np.random.default_rng(0)
    still = [np.full((8, 8, 3), 100, np.uint8)] * 4
    steady = [np.full((8, 8, 3), 50, np.uint8)] * 4
    noisy = [rng.integers(0, 255, (8, 8, 3), dtype=np.uint8) for _ in range(4)]
    assert flicker(still, steady) == pytest.approx(0.0)
    assert flicker(still, noisy) > 0.2


class OneFace:
    def detect(self, images: torch.Tensor) -> list[list[Face]]:
        return [[Face((30, 20, 38, 30), 0.99)] for _ in range(images.shape[0])]


def test_a_frame_is_translated_as_an_image_with_the_same_options(toon: Cartoonizer) -> None:
    """Without smoothing state a frame goes through the image code with the same options: colours kept,
    faces repainted, background composited."""
    toon.face_detector = OneFace()
    frame = torch.rand(1, 3, 240, 320) * 2 - 1
    for opts in (TranslateOptions(), TranslateOptions.of(faces="auto", colors="style"),
                 TranslateOptions.of(faces="auto", size="original")):
        assert torch.equal(translate_frame(toon, frame, None, opts), toon.translate_tensors([frame], **opts.as_kwargs())[0])


def test_options_a_clip_cannot_take_are_refused(tmp_path: Path, toon: Cartoonizer) -> None:
    src = make_clip(tmp_path / "c.mp4", frames=2)
    for bad, match in (({"size": 32}, "frames keep their size"), ({"faces": "crop"}, "portraits of photos"),
                       ({"background": "transparent"}, "alpha channel")):
        with pytest.raises(VideoError, match=match):
            translate_video(toon, src, tmp_path / "out.mp4", **bad)
    with pytest.raises(TypeError, match="did you mean 'colors'"):
        translate_video(toon, src, tmp_path / "out.mp4", colours="keep")
    assert not (tmp_path / "out.mp4").exists()


def test_translate_folder_does_clips_with_photos(tmp_path: Path, toon: Cartoonizer) -> None:
    from PIL import Image

    from toonkit.translate.folder import plan_folder, translate_planned

    inputs = tmp_path / "in"
    inputs.mkdir()
    make_clip(inputs / "clip.webm", frames=3)
    Image.new("RGB", (40, 30), (200, 90, 40)).save(inputs / "photo.jpg")
    frames: list[tuple[str, int, int]] = []
    plan = plan_folder([inputs], tmp_path / "out")
    report = translate_planned(toon, plan, TranslateOptions.of(colors="style"),
                               frames=lambda path, done, expected: frames.append((path.name, done, expected)))
    assert report.written == 2 and report.videos == 1 and not report.failed
    assert report.summary().startswith("translated 1 image and 1 video into")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["clip.webm", "photo.png"]
    assert [d for _, d, _ in frames] == [1, 2, 3] and {name for name, _, _ in frames} == {"clip.webm"}
    assert probe(tmp_path / "out" / "clip.webm").width == 64
    again = toon.translate_folder(inputs, tmp_path / "out")
    assert again.all_kept


def test_kill_leaves_no_file_under_the_final_name(tmp_path: Path) -> None:
    """SIGTERM halfway through a long clip: the command stops and the output name never appears."""
    src = make_clip(tmp_path / "long.mp4", frames=240, size=(64, 96))
    out = tmp_path / "out"
    code = (
        "import sys, time, torch\n"
        "from toonkit.translate import Cartoonizer\n"
        "from toonkit.translate.video import translate_video\n"
        "from toonkit.cli.translate_media import term_as_interrupt\n"
        "class Slow(torch.nn.Module):\n"
        "    size_multiple = 1\n"
        "    def forward(self, x):\n"
        "        time.sleep(0.05)\n"
        "        return x\n"
        "toon = Cartoonizer(Slow(), size=32, device='cpu')\n"
        "with term_as_interrupt():\n"
        f"    translate_video(toon, {str(src)!r}, {str(out / 'long.mp4')!r}, "
        "progress=lambda d, t: print(d, flush=True) if d == 5 else None)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "5"  # halfway through writing
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    time.sleep(0.1)
    assert not (out / "long.mp4").exists()
    assert list(out.iterdir()) == []  # the temporary was removed too


def test_mask_smoothing_runs_in_frame_order_within_a_batch() -> None:
    one, zero = torch.ones(1, 1, 4, 4), torch.zeros(1, 1, 4, 4)
    frame_by_frame = TemporalState(mask_smoothing=0.5)
    expected = [frame_by_frame.smooth_mask(m) for m in (one, zero, one)]
    batched = TemporalState(mask_smoothing=0.5)
    got = batched.smooth_mask(torch.cat([one, zero]))
    assert torch.equal(got, torch.cat(expected[:2]))
    assert torch.equal(batched.smooth_mask(one), expected[2])  # the batch left the last frame's mask


class SeenMasker(torch.nn.Module):
    """A stand-in person masker (bright pixels are the person) that records the sizes it is given."""

    size_multiple = 1

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[tuple[int, int]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.sizes.append((x.shape[-2], x.shape[-1]))
        return 6 * x.mean(1, keepdim=True)


@pytest.mark.parametrize("background", ["keep", "white"])
def test_frames_translated_in_batches_match_frame_by_frame(tmp_path: Path, background: str) -> None:
    """Batching frames is a speed choice only: 7 frames in batches of 3 (the last one short) give the
    frames one at a time gives, smoothing included."""
    toon = Cartoonizer(Shift(), SeenMasker(), size=32, device="cpu", channels_last=False)
    src = make_clip(tmp_path / "clip.avi", frames=7)
    outs = {}
    for batch in (1, 3):
        dst = tmp_path / f"out{batch}" / "clip.avi"
        assert translate_video(toon, src, dst, background=background, batch=batch) == 7
        outs[batch] = list(read_frames(dst))
    assert len(outs[1]) == len(outs[3]) == 7
    assert all(np.array_equal(a, b) for a, b in zip(outs[1], outs[3]))


def test_video_masker_runs_at_mask_scale(tmp_path: Path) -> None:
    masker = SeenMasker()
    toon = Cartoonizer(Shift(), masker, size=32, device="cpu", channels_last=False)
    src = make_clip(tmp_path / "clip.avi", frames=2)
    h, w = toon.working_size(48, 64)
    translate_video(toon, src, tmp_path / "half" / "clip.avi", mask_scale=0.5)
    assert set(masker.sizes) == {(round(h / 2), round(w / 2))}
    masker.sizes.clear()
    translate_video(toon, src, tmp_path / "full" / "clip.avi", mask_scale=1.0)
    assert set(masker.sizes) == {toon.working_size(48, 64)}


def test_frames_above_the_batch_bound_go_one_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from toonkit.translate import video

    seen: list[int] = []
    inner = video.translate_frame

    def spy(toon: Cartoonizer, frames: torch.Tensor, *a: object) -> torch.Tensor:
        seen.append(frames.shape[0])
        return inner(toon, frames, *a)

    monkeypatch.setattr(video, "translate_frame", spy)
    toon = Cartoonizer(Shift(), size=32, device="cpu", channels_last=False)
    src = make_clip(tmp_path / "clip.avi", frames=5)  # 48×64 frames
    translate_video(toon, src, tmp_path / "a" / "clip.avi", batch=2)
    assert seen == [2, 2, 1]
    seen.clear()
    monkeypatch.setattr(video, "BATCH_MAX_PIXELS", 48 * 64 - 1)
    translate_video(toon, src, tmp_path / "b" / "clip.avi", batch=2)
    assert seen == [1] * 5


@pytest.mark.parametrize("kwargs", [{"batch": 0}, {"mask_scale": 0.0}, {"mask_scale": 1.5}])
def test_bad_batch_or_mask_scale_is_refused_before_reading(tmp_path: Path, toon: Cartoonizer, kwargs: dict) -> None:
    with pytest.raises(ValueError, match="batch must be >= 1 and mask_scale"):
        translate_video(toon, tmp_path / "missing.mp4", tmp_path / "out" / "x.mp4", **kwargs)
    assert not (tmp_path / "out").exists()
