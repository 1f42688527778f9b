"""Fixtures for the metric tests: synthetic portraits and the optional shared ImageNet weights."""
from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest
import torch

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
WEIGHTS = SHARED / "weights"


@pytest.fixture
def imagenet_weights(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point TOONKIT_WEIGHTS_DIR at the shared ImageNet weights, or skip."""
    if not (WEIGHTS / "vgg16_imagenet_features.safetensors").is_file():
        pytest.skip(f"ImageNet weights not found in {WEIGHTS} (the shared folder beside the checkout)")
    monkeypatch.setenv("TOONKIT_WEIGHTS_DIR", str(WEIGHTS))
    return WEIGHTS


@pytest.fixture
def no_weights(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty weights folder, an empty torch hub cache, and downloads that fail like an offline machine."""
    (tmp_path / "weights").mkdir()  # a TOONKIT_WEIGHTS_DIR naming no folder is a setting error
    monkeypatch.setenv("TOONKIT_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def offline(url: str, *args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("offline (test)")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    return tmp_path


def synthetic_portraits(n: int = 4, size: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` toy portraits in [-1, 1]: a textured skin-coloured ellipse on a coloured background.

    The backgrounds are cool colours (blue/green-ish) and the person warm, so a method that paints the
    person with the background colour changes its colour a lot. The person never touches the border.

    Returns:
        images :math:`(n, 3, size, size)` and binary masks :math:`(n, 1, size, size)`.
    """
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    images, masks = [], []
    for _ in range(n):
        cy, cx = (torch.rand(2, generator=g) - 0.5) * 0.2
        mask = (((yy - cy) / 0.6) ** 2 + ((xx - cx) / 0.45) ** 2 <= 1).float()
        skin = torch.tensor([0.85, 0.62, 0.5]) + (torch.rand(3, generator=g) - 0.5) * 0.1
        back = torch.tensor([0.2, 0.45, 0.8]) + (torch.rand(3, generator=g) - 0.5) * 0.3
        texture = (torch.rand(1, size, size, generator=g) - 0.5) * 0.1
        img = mask * (skin.view(3, 1, 1) + texture) + (1 - mask) * back.view(3, 1, 1)
        images.append(img.clamp(0, 1) * 2 - 1)
        masks.append(mask[None])
    return torch.stack(images), torch.stack(masks)


def paint_with_border_colour(images: torch.Tensor) -> torch.Tensor:
    """A 'method' that paints the whole image with its background's mean colour (its 2-px border)."""
    border = torch.cat([images[..., :2, :].flatten(2), images[..., -2:, :].flatten(2),
                        images[..., :, :2].flatten(2), images[..., :, -2:].flatten(2)], dim=2)
    return border.mean(2)[:, :, None, None].expand_as(images).clone()


@pytest.fixture
def portraits() -> tuple[torch.Tensor, torch.Tensor]:
    """Four 64² synthetic portraits and their masks (see :func:`synthetic_portraits`)."""
    return synthetic_portraits()


@pytest.fixture
def paint():
    """The background-painting 'method' (see :func:`paint_with_border_colour`)."""
    return paint_with_border_colour
