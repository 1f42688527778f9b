"""Datasets: scanning, skipping bad files, mask matching, aligned crops, teachers, collation."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from toonkit.augment.edge_smooth import EdgeSmooth
from toonkit.data import (
    CartoonDataset,
    EmptyFolderError,
    MissingMasksError,
    PhotoDataset,
    UnpairedDataset,
    find_splits,
    require_masks,
    scan_images,
)
from toonkit.data.transforms import load_resized


def _blob_image(seed: int, h: int = 48, w: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """An RGB photo whose bright rectangle is exactly its mask."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), np.uint8)
    top, left = int(rng.integers(0, h // 2)), int(rng.integers(0, w // 2))
    mask[top:top + h // 2, left:left + w // 3] = 255
    rgb = rng.integers(0, 60, (h, w, 3)).astype(np.uint8)
    rgb[mask > 0] = 230
    return rgb, mask


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    (tmp_path / "photos" / "sub").mkdir(parents=True)
    (tmp_path / "masks" / "sub").mkdir(parents=True)
    for i in range(4):
        rgb, mask = _blob_image(i)
        sub = "sub/" if i == 3 else ""
        Image.fromarray(rgb).save(tmp_path / "photos" / f"{sub}p{i}.png")
        Image.fromarray(mask).save(tmp_path / "masks" / f"{sub}p{i}.png")
    return tmp_path


def _write_bad_files(folder: Path) -> None:
    arr = np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)
    Image.fromarray(arr).save(folder / "whole.jpg")
    data = (folder / "whole.jpg").read_bytes()
    (folder / "whole.jpg").unlink()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.JPG").write_text("not an image\n")


def test_scan_is_recursive_case_insensitive_and_skips_hidden(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    for name in ("x.JPG", "a/y.Png", "a/b/z.tiff", "a/readme.txt", ".hidden/h.png", "a/.h.png", "w.WebP"):
        (tmp_path / name).write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in scan_images(tmp_path)]
    assert found == ["a/b/z.tiff", "a/y.Png", "w.WebP", "x.JPG"]
    assert [p.name for p in scan_images(tmp_path, recursive=False)] == ["w.WebP", "x.JPG"]
    with pytest.raises(EmptyFolderError, match="does not exist"):
        scan_images(tmp_path / "nope")


def test_find_splits(tmp_path: Path) -> None:
    for name in ("trainA", "trainB", "testA"):
        (tmp_path / name).mkdir()
    assert find_splits(tmp_path) == {n: tmp_path / n for n in ("trainA", "trainB", "testA")}


def test_bad_files_are_skipped_with_one_warning_each(photo_dir: Path, caplog: pytest.LogCaptureFixture
                                                     ) -> None:
    folder = photo_dir / "photos"
    _write_bad_files(folder)
    with caplog.at_level(logging.WARNING, logger="toonkit.data"):
        ds = PhotoDataset(folder, size=32)
    assert len(ds) == 4
    assert sorted(p.name for p, _ in ds.skipped) == ["empty.png", "notes.JPG", "truncated.jpg"]
    reasons = {p.name: r for p, r in ds.skipped}
    assert "empty" in reasons["empty.png"] and "truncated" in reasons["truncated.jpg"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3
    for name in ("empty.png", "notes.JPG", "truncated.jpg"):
        assert sum(name in r.getMessage() for r in warnings) == 1
    assert all(ds[i]["photo"].shape == (3, 32, 32) for i in range(len(ds)))


def test_empty_domain_names_the_folder(tmp_path: Path) -> None:
    (tmp_path / "cartoons").mkdir()
    with pytest.raises(EmptyFolderError, match="cartoons"):
        CartoonDataset(tmp_path / "cartoons", size=32)
    _write_bad_files(tmp_path / "cartoons")
    with pytest.raises(EmptyFolderError, match=r"cartoons.*all 3 image files failed"):
        CartoonDataset(tmp_path / "cartoons", size=32)


def test_photo_and_mask_share_the_crop(photo_dir: Path) -> None:
    ds = PhotoDataset(photo_dir / "photos", masks=photo_dir / "masks", size=32, load_size=40)
    assert len(ds.masks) == 4 and ds.missing_masks == []
    torch.manual_seed(0)
    for _ in range(3):
        for i in range(len(ds)):
            s = ds[i]
            assert s["photo"].shape == (3, 32, 32) and s["mask"].shape == (1, 32, 32)
            assert s["photo"].dtype == torch.float32 and -1 <= s["photo"].min() and s["photo"].max() <= 1
            assert 0 <= s["mask"].min() and s["mask"].max() <= 1
            # the bright rectangle is the mask: after the shared crop/flip they still coincide
            bright = (s["photo"].mean(0) > 0.2).float()
            assert (bright - (s["mask"][0] > 0.5).float()).abs().mean() < 0.02


def test_masks_of_another_size_are_resized_and_bad_aspect_skipped(photo_dir: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    masks = photo_dir / "masks"
    big = Image.open(masks / "p0.png").resize((128, 96), Image.NEAREST)  # same 4:3 aspect, 2×
    (masks / "p0.png").unlink()
    big.save(masks / "p0.png")
    Image.open(masks / "p1.png").resize((64, 64)).save(masks / "p1.png")  # another aspect
    with caplog.at_level(logging.WARNING, logger="toonkit.data"):
        ds = PhotoDataset(photo_dir / "photos", masks=masks, size=48, load_size=48, train=False)
    assert [p.name for p in ds.missing_masks] == ["p1.png"]
    assert [(p.name, "aspect" in r) for p, r in ds.skipped] == [("p1.png", True)]
    assert any("p1.png" in r.getMessage() for r in caplog.records)
    s = ds[ds.files.index(photo_dir / "photos" / "p0.png")]
    bright = (s["photo"].mean(0) > 0.2).float()
    assert (bright - (s["mask"][0] > 0.5).float()).abs().mean() < 0.03
    with pytest.raises(MissingMasksError, match="p1.png"):
        ds[ds.files.index(photo_dir / "photos" / "p1.png")]


def test_require_masks_lists_missing_or_uses_teacher(photo_dir: Path, tmp_path: Path) -> None:
    for name in ("p1.png", "p2.png", "sub/p3.png"):
        (photo_dir / "masks" / name).unlink()
    ds = PhotoDataset(photo_dir / "photos", masks=photo_dir / "masks", size=32)
    with pytest.raises(MissingMasksError) as info:
        require_masks(ds, show=2)
    msg = str(info.value)
    assert "3 of 4 photos" in msg and "p1.png" in msg and "p2.png" in msg and "1 more" in msg

    calls = []

    def teacher(x: torch.Tensor) -> torch.Tensor:
        calls.append(tuple(x.shape))
        assert x.min() >= -1 and x.max() <= 1
        return (x.mean(1, keepdim=True) > 0.2).float() * 20 - 10  # logits: the bright blob is the person

    out = tmp_path / "teacher_masks"
    assert require_masks(ds, teacher=teacher, cache_dir=out) == 3
    assert len(calls) == 3 and all(c[:2] == (1, 3) for c in calls)
    assert ds.missing_masks == [] and require_masks(ds) == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == ["p1.png", "p2.png",
                                                                                 "sub/p3.png"]
    for i in range(len(ds)):
        s = ds[i]
        assert ((s["photo"].mean(0) > 0.2).float() - (s["mask"][0] > 0.5).float()).abs().mean() < 0.03
    # the written masks make a complete masks folder for the next run
    again = PhotoDataset(photo_dir / "photos", masks=out, size=32)
    assert len(again.masks) == 3


def test_photos_without_masks_folder(photo_dir: Path) -> None:
    ds = PhotoDataset(photo_dir / "photos", size=32)
    assert set(ds[0]) == {"photo"} and require_masks(ds) == 0
    with pytest.raises(EmptyFolderError, match="mask folder"):
        PhotoDataset(photo_dir / "photos", masks=photo_dir / "nowhere", size=32)


def _cartoon_dir(tmp_path: Path, n: int = 3) -> Path:
    folder = tmp_path / "cartoons"
    folder.mkdir()
    for i in range(n):
        img = Image.new("RGB", (60, 44), (220, 30, 40))
        from PIL import ImageDraw

        d = ImageDraw.Draw(img)
        d.ellipse((10 + i, 5, 40 + i, 38), fill=(250, 220, 190), outline=(20, 20, 20), width=2)
        img.save(folder / f"c{i}.png")
    return folder


def test_cartoon_and_smooth_share_the_crop(tmp_path: Path) -> None:
    folder = _cartoon_dir(tmp_path)
    ds = CartoonDataset(folder, size=32, load_size=40)
    smoother = EdgeSmooth()
    torch.manual_seed(0)
    for i in range(len(ds)):
        s = ds[i]
        assert set(s) == {"cartoon", "smooth"} and s["smooth"].shape == (3, 32, 32)
        assert (s["smooth"] != s["cartoon"]).any()
        # smoothing the loaded cartoon then cropping equals the sample's crop of the smoothed twin:
        # find the sample's window by matching the cartoon crop in the full loaded image
        full = load_resized(ds.files[i], 40).float() / 127.5 - 1
        twin = smoother(full[None])[0]
        found = False
        for flip in (False, True):
            f, t = (full.flip(-1), twin.flip(-1)) if flip else (full, twin)
            for top in range(f.shape[1] - 31):
                for left in range(f.shape[2] - 31):
                    if torch.equal(f[:, top:top + 32, left:left + 32], s["cartoon"]):
                        found = True
                        assert (t[:, top:top + 32, left:left + 32] - s["smooth"]).abs().max() < 0.004
        assert found


def test_smooth_cache_is_reused_and_invalidated(tmp_path: Path) -> None:
    folder = _cartoon_dir(tmp_path, n=2)
    cache = tmp_path / "cache"
    ds = CartoonDataset(folder, size=32, load_size=40, cache_dir=cache, train=False)
    entries = sorted(cache.rglob("*.png"))
    assert len(entries) == 2  # warmed up front
    stamp = {p: p.stat().st_mtime_ns for p in entries}
    uncached = CartoonDataset(folder, size=32, load_size=40, train=False)
    for i in range(2):
        torch.testing.assert_close(ds[i]["smooth"], uncached[i]["smooth"], atol=0, rtol=0)
    CartoonDataset(folder, size=32, load_size=40, cache_dir=cache)  # same params: nothing recomputed
    assert sorted(cache.rglob("*.png")) == entries and all(p.stat().st_mtime_ns == stamp[p] for p in entries)
    CartoonDataset(folder, size=32, load_size=48, cache_dir=cache)  # another load size: new entries
    assert len(list(cache.rglob("*.png"))) == 4
    # editing a cartoon changes its key (mtime/size), so its twin is recomputed
    img = Image.open(folder / "c0.png").convert("RGB")
    img.paste((0, 0, 0), (0, 0, 20, 20))
    img.save(folder / "c0.png")
    ds2 = CartoonDataset(folder, size=32, load_size=40, cache_dir=cache, train=False)
    assert len(list(cache.rglob("*.png"))) == 5
    torch.testing.assert_close(ds2[0]["smooth"], CartoonDataset(folder, size=32, load_size=40,
                                                                train=False)[0]["smooth"])
    assert ds2.cache is not None and ds2.cache.prune(ds2.files) == 3


def test_unpaired_dataloader_collates(photo_dir: Path, tmp_path: Path) -> None:
    photos = PhotoDataset(photo_dir / "photos", masks=photo_dir / "masks", size=32)
    cartoons = CartoonDataset(_cartoon_dir(tmp_path), size=32)
    loader = DataLoader(UnpairedDataset(photos, cartoons), batch_size=3, shuffle=True, num_workers=0)
    batch = next(iter(loader))
    assert {k: tuple(v.shape) for k, v in batch.items()} == {
        "photo": (3, 3, 32, 32), "mask": (3, 1, 32, 32), "cartoon": (3, 3, 32, 32), "smooth": (3, 3, 32, 32)}


def test_file_broken_after_validation_is_replaced(photo_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    ds = PhotoDataset(photo_dir / "photos", size=32)
    ds.files[0].write_bytes(b"")  # broken after the up-front scan
    with caplog.at_level(logging.WARNING, logger="toonkit.data"):
        s = ds[0]
        ds[0]
    assert s["photo"].shape == (3, 32, 32)
    assert sum("p0.png" in r.getMessage() for r in caplog.records) == 1
    assert [p.name for p, _ in ds.skipped] == ["p0.png"]


def test_size_checks(photo_dir: Path) -> None:
    with pytest.raises(ValueError, match="load_size"):
        PhotoDataset(photo_dir / "photos", size=64, load_size=32)


def test_a_unet_teacher_masks_photos_of_any_size(tmp_path: Path) -> None:
    """The training path pads to the teacher's size multiple, like `toonkit data masks` (a U-Net of
    depth 4 needs sides divisible by 16: a 50×70 photo raised ValueError before)."""
    from PIL import Image

    from toonkit.nets.maskers import UNetMasker

    (tmp_path / "photos").mkdir()
    (tmp_path / "masks").mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (70, 50, 3), dtype=np.uint8)).save(
        tmp_path / "photos" / "odd.png")
    ds = PhotoDataset(tmp_path / "photos", masks=tmp_path / "masks", size=32, load_size=50)
    teacher = UNetMasker(depth=4, base_channels=4).eval()
    assert teacher.size_multiple == 16
    assert require_masks(ds, teacher=teacher, cache_dir=tmp_path / "cache") == 1
    mask = ds.generated_masks[tmp_path / "photos" / "odd.png"]
    assert mask.shape == (1, 70, 50) and mask.dtype == torch.uint8
    assert (tmp_path / "cache" / "odd.png").is_file()
