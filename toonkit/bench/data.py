"""A suite's data, made concrete: deterministic train/test/reference splits linked into the work folder,
and the test photos, masks and reference cartoons loaded as tensors at the evaluation size."""
from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch
from torch import Tensor

from toonkit.bench.suite import PhotoSource, Suite
from toonkit.data.folders import match_by_stem, scan_images

log = logging.getLogger("toonkit.bench")


@dataclass
class SuiteData:
    """Folders of one suite's materialised data (links to the original files, never copies of edits).

    Attributes:
        train_photos, train_masks, train_cartoons: training folders given to every recipe.
        test_photos, test_masks: the test set (same stems).
        references: the reference cartoons (never trained on).
        style: the default style image for optimisation methods (the first training cartoon).
        counts: how many files each split holds (``train_photos``, ``test_photos``, ``train_cartoons``,
            ``references``).
    """

    train_photos: Path
    train_masks: Path
    train_cartoons: Path
    test_photos: Path
    test_masks: Path
    references: Path
    style: Path
    counts: dict[str, int]


def spread_indices(n: int, k: int) -> list[int]:
    """``k`` indices spread evenly over ``range(n)`` (the middle of each of ``k`` equal bins).

    Example:
        >>> spread_indices(10, 3)
        [1, 5, 8]
    """
    k = min(k, n)
    return [(2 * i + 1) * n // (2 * k) for i in range(k)]


def _link(src: Path, dst: Path) -> None:
    """``dst`` pointing at ``src``: a symlink where the OS allows one, else a copy."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.is_symlink() or dst.exists():
        dst.unlink()
    try:
        os.symlink(src.resolve(), dst)
    except OSError:
        shutil.copy2(src, dst)


def _is_link_to(dst: Path, src: Path) -> bool:
    """Whether ``dst`` already is what :func:`_link` would make of ``src``."""
    if dst.is_symlink():
        return Path(os.readlink(dst)) == src.resolve()
    if not dst.is_file():
        return False
    a, b = dst.stat(), src.stat()  # a copy (no symlinks on this OS): copy2 kept size and mtime
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def _sync(folder: Path, wanted: dict[str, Path]) -> None:
    """Make ``folder`` hold exactly ``wanted`` (link name -> original), touching only what differs.

    Entries that are already right are left alone, so materialising an unchanged split again (a second
    bench, or more runs of the same suite started while others train) never pulls files from under a
    reader.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for entry in list(folder.iterdir()):
        if entry.name not in wanted:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    for name, src in wanted.items():
        if not _is_link_to(folder / name, src):
            _link(src, folder / name)


def _fresh(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def _demo_sources(suite: Suite, root: Path) -> tuple[list[PhotoSource], Path]:
    """Generate the demo set once (a marker records its parameters) and describe it as sources."""
    demo = suite.spec.data.demo
    assert demo is not None
    marker = root / "demo.json"
    wanted = demo.model_dump_json()
    if not marker.is_file() or marker.read_text() != wanted:
        from toonkit.data.demo import make_demo

        _fresh(root)
        make_demo(root, n=demo.n, size=demo.size, seed=demo.seed, n_test=demo.n_test)
        marker.write_text(wanted)
    sources = [PhotoSource(photos=str(root / "photos"), masks=str(root / "masks"), test=0),
               PhotoSource(photos=str(root / "test_photos"), masks=str(root / "test_masks"), test="all",
                           train=False)]
    return sources, root / "cartoons"


def _teacher_masks(src: PhotoSource, index: int, root: Path) -> str:
    """Masks of a source that names a ``mask_teacher``: written once under ``root`` (kept across runs)."""
    from toonkit.data.teacher import write_masks
    from toonkit.methods.assemble import build_block

    out = root / "teacher_masks" / str(index)
    block = {"type": src.mask_teacher} if isinstance(src.mask_teacher, str) else dict(src.mask_teacher or {})
    report = write_masks(src.photos, out, teacher=build_block("masker", block).eval(), device="cpu")
    if report.written:
        log.info("%s: wrote %d person masks with mask teacher %s", src.photos, report.written,
                 block["type"])
    return str(out)


def skin_groups(photos: list[Path], masks: dict[Path, Path], size: int) -> dict[Path, Optional[str]]:
    """The ITA° skin-tone group of each photo (None: too little skin to tell), at the evaluation size."""
    import torch.nn.functional as F

    from toonkit.data.decode import DecodeError, load_mask
    from toonkit.data.transforms import load_resized, sample_crop_flip
    from toonkit.imaging import from_uint8
    from toonkit.metrics.skin import ita_group, skin_shift

    out: dict[Path, Optional[str]] = {}
    for photo in photos:
        try:  # the test set's own framing: shorter side resized to size, centre crop
            img = load_resized(photo, size)
            mask = F.interpolate(load_mask(masks[photo])[None], size=tuple(img.shape[-2:]), mode="bilinear",
                                 align_corners=False)[0]
        except (DecodeError, OSError, ValueError):
            out[photo] = None
            continue
        window = sample_crop_flip(int(img.shape[-2]), int(img.shape[-1]), size, train=False)
        x = from_uint8(window(img))[None]
        shift = skin_shift(x, x, window(mask)[None])
        share = float(shift.share[0])
        out[photo] = ita_group(float(shift.ita[0])) if share >= MIN_TEST_SKIN_SHARE else None
    return out


def _skin_test_indices(usable: list[Path], pairs: dict[Path, Path], per_group: int, size: int,
                       cache: Path) -> set[int]:
    """Up to ``per_group`` photos per ITA° group, spread evenly over each group's sorted order (cached)."""
    key = json.dumps({"photos": [str(p) for p in usable], "size": size, "share": MIN_TEST_SKIN_SHARE})
    groups: dict[str, Optional[str]] = {}
    if cache.is_file():
        try:
            stored = json.loads(cache.read_text())
            if stored.get("key") == key:
                groups = stored["groups"]
        except (OSError, ValueError, KeyError):
            groups = {}
    if not groups:
        found = skin_groups(usable, pairs, size)
        groups = {str(p): g for p, g in found.items()}
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"key": key, "groups": groups}))
    chosen: set[int] = set()
    by_group: dict[str, list[int]] = {}
    for i, photo in enumerate(usable):
        group = groups.get(str(photo))
        if group is not None:
            by_group.setdefault(group, []).append(i)
    for members in by_group.values():
        chosen.update(members[j] for j in spread_indices(len(members), per_group))
    return chosen


#: a test photo chosen by skin tone shows at least this share of skin pixels (ITA° of fewer is unreliable)
MIN_TEST_SKIN_SHARE = 0.01


def materialise(suite: Suite, work: Path) -> SuiteData:
    """Split the suite's data deterministically and link it under ``work/data``.

    Photos: per source, the photos with a mask, sorted by path; ``test`` of them, spread evenly over that
    order (or ``test_per_skin_group`` per ITA° group, see :func:`skin_groups`), form the test set and the
    rest (when ``train``) the training set. A source with a ``mask_teacher`` gets its masks written into
    ``work/data/teacher_masks`` first. Cartoons: sorted by path, every ``reference_every``-th (the 5th,
    10th, … for 5) is a reference and the rest train. Linked files are renamed ``<source index>_<stem>``
    so stems from different folders cannot collide.
    """
    spec = suite.spec.data
    root = work / "data"
    if spec.demo is not None:
        sources, cartoons_dir = _demo_sources(suite, root / "demo")
    else:
        sources = []
        for index, src in enumerate(spec.photos):
            src = src.model_copy(update={"photos": str(suite.resolve(src.photos))})
            masks = (str(suite.resolve(src.masks)) if src.masks is not None
                     else _teacher_masks(src, index, root))
            sources.append(src.model_copy(update={"masks": masks}))
        assert spec.cartoons is not None
        cartoons_dir = suite.resolve(spec.cartoons)
    names = ("train_photos", "train_masks", "train_cartoons", "test_photos", "test_masks", "references")
    plan: dict[str, dict[str, Path]] = {name: {} for name in names}  # folder -> link name -> original
    for index, src in enumerate(sources):
        assert src.masks is not None
        photos_root, masks_root = Path(src.photos), Path(src.masks)
        photos = scan_images(photos_root)
        pairs = match_by_stem(photos, photos_root, scan_images(masks_root), masks_root)
        usable = [p for p in photos if p in pairs]
        if len(usable) < len(photos):
            log.warning("%s: %d of %d photos have no mask and are left out", photos_root,
                        len(photos) - len(usable), len(photos))
        if src.test_per_skin_group is not None:
            test_idx = _skin_test_indices(usable, pairs, src.test_per_skin_group, suite.spec.eval.size,
                                          root / "skin_groups" / f"{index}.json")
        else:
            n_test = len(usable) if src.test == "all" else int(src.test)
            test_idx = set(spread_indices(len(usable), n_test))
        for i, photo in enumerate(usable):
            split = "test" if i in test_idx else ("train" if src.train else None)
            if split is None:
                continue
            stem = f"{index}_{photo.stem}"
            mask = pairs[photo]
            plan[f"{split}_photos"][f"{stem}{photo.suffix.lower()}"] = photo
            plan[f"{split}_masks"][f"{stem}{mask.suffix.lower()}"] = mask
    every = spec.reference_every
    for i, path in enumerate(scan_images(cartoons_dir)):
        plan["references" if (i + 1) % every == 0 else "train_cartoons"][f"{i:05d}_{path.name}"] = path
    counts = {name: len(plan[name]) for name in ("train_photos", "test_photos", "train_cartoons", "references")}
    problems = [f"{what}: none" for what, n in counts.items() if n == 0 and what != "train_photos"]
    if counts["references"] < 2:
        problems.append(f"references: {counts['references']} (FD/KID need at least 2)")
    if problems:  # raised before any file is touched
        raise ValueError(f"suite {suite.path}: the data split leaves too little: {'; '.join(problems)}")
    dirs = {name: root / name for name in names}
    for name in names:
        _sync(dirs[name], plan[name])
    style = dirs["train_cartoons"] / next(iter(plan["train_cartoons"]))
    return SuiteData(dirs["train_photos"], dirs["train_masks"], dirs["train_cartoons"], dirs["test_photos"],
                     dirs["test_masks"], dirs["references"], style, counts)


def load_test_set(data: SuiteData, size: int) -> tuple[list[str], Tensor, Tensor]:
    """The test photos and masks, shorter side resized to ``size`` and centre-cropped to ``size``².

    Returns:
        (stems, photos :math:`(N, 3, S, S)` in [-1, 1], masks :math:`(N, 1, S, S)` in [0, 1])
    """
    from toonkit.data.datasets import PhotoDataset

    ds = PhotoDataset(data.test_photos, masks=data.test_masks, size=size, load_size=size, train=False,
                      hflip=False)
    missing = ds.missing_masks
    if ds.skipped or missing:
        bad = [str(p) for p, _ in ds.skipped] + [str(p) for p in missing]
        raise ValueError(f"test set: unusable photos or masks: {', '.join(bad[:5])}")
    items = [ds[i] for i in range(len(ds))]
    stems = [p.stem for p in ds.files]
    return stems, torch.stack([it["photo"] for it in items]), torch.stack([it["mask"] for it in items])


def load_references(data: SuiteData, size: int) -> Tensor:
    """The reference cartoons at ``size``² (shorter side resized, centre crop), in [-1, 1]."""
    from toonkit.data.datasets import PhotoDataset

    ds = PhotoDataset(data.references, size=size, load_size=size, train=False, hflip=False)
    return torch.stack([ds[i]["photo"] for i in range(len(ds))])


def load_style(path: Path, size: int) -> Tensor:
    """One style image as :math:`(1, 3, S, S)` in [-1, 1] (shorter side ``size``, centre crop)."""
    from toonkit.data.transforms import load_resized, sample_crop_flip
    from toonkit.imaging import from_uint8

    img = load_resized(path, size)
    height, width = img.shape[-2:]
    crop = sample_crop_flip(height, width, size, train=False)
    return from_uint8(crop(img)).unsqueeze(0)
