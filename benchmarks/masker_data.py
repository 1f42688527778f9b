"""The person-masker data splits and scores shared by ``train_masker.py`` and ``mask_teacher_iou.py``.

Splits are fixed by file name, never by results: in each dataset the photo–mask pairs are sorted by
stem (as strings) and every ``TEST_EVERY[dataset]``-th pair from the first on is a **test** pair (people:
every 5th, portraits: every 4th). Among the remaining people pairs every 10th from the fourth on is a
**validation** pair (used to pick the checkpoint's edge refinement, never trained on). Photos listed in
``masker_excluded_photos.txt`` (the painted benchmark's held-out test photos) are never trained on either.

Scores are computed at the photo's own resolution against its reference mask (resized to the photo
with bilinear interpolation when smaller, binarised at 0.5); a masker's probability is binarised at 0.5:

- IoU per image;
- boundary F-score per image (the DAVIS contour measure): the outlines of both masks are matched
  within a tolerance of 0.8 % of the image diagonal; precision and recall of outline pixels give F.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

BENCH = Path(__file__).resolve().parent
DATASETS = ("people", "portraits")
TEST_EVERY = {"people": 5, "portraits": 4}
VAL_EVERY, VAL_OFFSET = 10, 3
EXCLUDED = BENCH / "masker_excluded_photos.txt"
BOUNDARY_TOLERANCE = 0.008  # of the image diagonal, as DAVIS


@dataclass(frozen=True)
class Pair:
    dataset: str
    photo: Path
    mask: Path


def pairs(data: Path, dataset: str) -> list[Pair]:
    """The photo–mask pairs of ``data/dataset`` sorted by stem."""
    from toonkit.data.folders import match_by_stem, scan_images

    photos, masks = data / dataset / "photos", data / dataset / "masks"
    matched = match_by_stem(scan_images(photos), photos, scan_images(masks), masks)
    return [Pair(dataset, p, m) for p, m in sorted(matched.items(), key=lambda pm: pm[0].stem)]


def split(data: Path, dataset: str) -> dict[str, list[Pair]]:
    """``{"train": [...], "val": [...], "test": [...]}`` for one dataset (see the module docstring)."""
    every = TEST_EVERY[dataset]
    all_pairs = pairs(data, dataset)
    test = [p for i, p in enumerate(all_pairs) if i % every == 0]
    rest = [p for i, p in enumerate(all_pairs) if i % every != 0]
    val = [p for i, p in enumerate(rest) if i % VAL_EVERY == VAL_OFFSET] if dataset == "people" else []
    excluded = excluded_photos()
    train = [p for p in rest if p not in val and p.photo.resolve() not in excluded]
    return {"train": train, "val": val, "test": test}


def excluded_photos() -> set[Path]:
    """The photos no masker trains on (paths in the file are relative to the repository root)."""
    lines = [ln.strip() for ln in EXCLUDED.read_text().splitlines()]
    return {(BENCH.parent / ln).resolve() for ln in lines if ln and not ln.startswith("#")}


def _outline(mask: torch.Tensor) -> torch.Tensor:
    """Pixels of a boolean (H, W) mask that touch the other class (4-neighbourhood), image border excluded."""
    m = mask.float()[None, None]
    eroded = -F.max_pool2d(-F.pad(m, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return (m - eroded)[0, 0] > 0


def _near(outline: torch.Tensor, radius: int) -> torch.Tensor:
    """Pixels within ``radius`` (Euclidean) of a boolean (H, W) outline (scipy's exact distance transform)."""
    from scipy.ndimage import distance_transform_edt

    distance = distance_transform_edt(~outline.numpy())
    return torch.from_numpy(distance <= max(1, radius))


def iou(pred: torch.Tensor, truth: torch.Tensor) -> float:
    union = (pred | truth).sum().item()
    return 1.0 if union == 0 else (pred & truth).sum().item() / union


def boundary_f(pred: torch.Tensor, truth: torch.Tensor) -> float:
    """DAVIS boundary F-measure of two boolean (H, W) masks."""
    h, w = truth.shape
    radius = round(BOUNDARY_TOLERANCE * (h * h + w * w) ** 0.5)
    pb, tb = _outline(pred), _outline(truth)
    if not pb.any() and not tb.any():
        return 1.0
    if not pb.any() or not tb.any():
        return 0.0
    precision = (pb & _near(tb, radius)).sum().item() / pb.sum().item()
    recall = (tb & _near(pb, radius)).sum().item() / tb.sum().item()
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def load_truth(pair: Pair, size: tuple[int, int]) -> torch.Tensor:
    """The reference mask of ``pair`` at ``size`` (H, W), binarised at 0.5."""
    from toonkit.data.decode import load_mask

    truth = load_mask(pair.mask)[None]
    if truth.shape[-2:] != size:
        truth = F.interpolate(truth, size=size, mode="bilinear", align_corners=False)
    return truth[0, 0] > 0.5


@torch.no_grad()
def masker_probability(masker: torch.nn.Module, photo: torch.Tensor, short_side: int | None) -> torch.Tensor:
    """``masker``'s person probability for a uint8 (3, H, W) photo, as ``toonkit translate`` computes it.

    The photo is resized (antialiased) to ``short_side`` when larger (translate's working size), the
    masker runs padded to its ``size_multiple``, and the probability is resized back to (H, W).
    """
    from toonkit.core.geometry import resize, run_padded, short_side_size
    from toonkit.data.teacher import device_of
    from toonkit.imaging import from_uint8

    x = from_uint8(photo)[None].to(device_of(masker))
    h, w = x.shape[-2:]
    if short_side is not None and min(h, w) > short_side:
        x = resize(x, short_side_size(h, w, short_side))
    prob = torch.sigmoid(run_padded(masker, x, int(getattr(masker, "size_multiple", 1) or 1)).float())
    return resize(prob, (h, w))[0, 0].clamp(0, 1).cpu()
