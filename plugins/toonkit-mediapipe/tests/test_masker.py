"""The masker: registration, the toonkit component contract, and agreement with real person masks."""
from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from toonkit_mediapipe import MediaPipeSelfie

from toonkit.testing import check_plugin_components


def load_photo(path: Path) -> torch.Tensor:
    rgb = np.array(Image.open(path).convert("RGB"), dtype=np.float32)
    return torch.from_numpy(rgb).permute(2, 0, 1)[None] / 127.5 - 1


def load_mask(path: Path, size: tuple[int, int]) -> torch.Tensor:
    m = torch.from_numpy(np.array(Image.open(path).convert("L"), dtype=np.float32) / 255)[None, None]
    return F.interpolate(m, size=size, mode="bilinear", align_corners=False) > 0.5


def test_plugin_components_build_and_run(weights_env: Path) -> None:
    report = check_plugin_components("toonkit_mediapipe.plugin")
    assert report.plugin == "mediapipe"
    assert set(report.checked) == {"masker/mediapipe_selfie"}


def test_output_is_clamped_logits_of_the_input_size(weights_env: Path) -> None:
    masker = MediaPipeSelfie(eps=1e-3)
    x = torch.rand(3, 3, 48, 80) * 2 - 1
    logits = masker(x)
    assert logits.shape == (3, 1, 48, 80) and logits.dtype == torch.float32
    bound = float(torch.logit(torch.tensor(1 - 1e-3)))
    assert logits.abs().max() <= bound + 1e-4
    assert not logits.requires_grad and list(masker.parameters()) == []
    torch.testing.assert_close(torch.sigmoid(logits).clamp(1e-3, 1 - 1e-3),
                               masker.probability(x).clamp(1e-3, 1 - 1e-3), atol=1e-5, rtol=0)


def test_a_batch_equals_its_images_one_by_one(weights_env: Path) -> None:
    masker = MediaPipeSelfie()
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    both = masker.probability(x)
    torch.testing.assert_close(both[1:], masker.probability(x[1:]), atol=1e-5, rtol=0)
    torch.testing.assert_close(both[:1], masker.probability(x[:1]), atol=1e-5, rtol=0)


def test_rejects_non_rgb_input(weights_env: Path) -> None:
    with pytest.raises(ValueError, match=r"expected RGB images of shape \(N, 3, H, W\)"):
        MediaPipeSelfie()(torch.zeros(1, 1, 32, 32))


def test_copies_and_pickles_without_the_runtime(weights_env: Path) -> None:
    masker = MediaPipeSelfie()
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    expected = masker(x)  # creates the LiteRT interpreter
    for clone in (copy.deepcopy(masker), pickle.loads(pickle.dumps(masker))):
        torch.testing.assert_close(clone(x), expected)


def test_segments_real_people(weights_env: Path, people_dir: Path) -> None:
    people = people_dir
    masker = MediaPipeSelfie()
    ious = []
    for stem in ("1", "10", "100"):
        photo = load_photo(people / "photos" / f"{stem}.jpg")
        truth = load_mask(people / "masks" / f"{stem}.png", photo.shape[-2:])
        for letterbox in (False, True):
            masker.letterbox = letterbox
            pred = torch.sigmoid(masker(photo)) > 0.5
            ious.append(float((pred & truth).sum() / (pred | truth).sum()))
    assert min(ious) > 0.8, ious


def test_listed_by_toonkit_plugins(weights_env: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "toonkit", "plugins", "--json"], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    listed = {p["name"]: p for p in json.loads(out)}
    assert listed["mediapipe"]["error"] is None
    assert listed["mediapipe"]["components"] == {"masker": ["mediapipe_selfie"]}


def test_disabling_the_plugin_removes_its_masker(monkeypatch: pytest.MonkeyPatch) -> None:
    from toonkit.plugins import load_plugins

    registry, infos = load_plugins()
    assert ("masker", "mediapipe_selfie") in registry
    monkeypatch.setenv("TOONKIT_DISABLE_PLUGINS", "mediapipe")
    registry, infos = load_plugins()
    assert ("masker", "mediapipe_selfie") not in registry
    assert "mediapipe" not in {i.name for i in infos}
