"""The demo's faces setting: the page's cartoon equals the API's for faces=auto; portraits per face."""
from __future__ import annotations

import torch

from toonkit.demo.core import cartoonise, portraits
from toonkit.nets.face_detectors import Face
from toonkit.translate import Cartoonizer


class Half(torch.nn.Module):
    size_multiple = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 0.5


class OneFace:
    def detect(self, images: torch.Tensor) -> list[list[Face]]:
        return [[Face((150, 150, 166, 170), 0.99)] for _ in range(images.shape[0])]


def test_demo_faces_match_the_api_and_portraits() -> None:
    toon = Cartoonizer(Half(), size=32, device="cpu", channels_last=False)
    toon.face_detector = OneFace()
    photo = torch.rand(1, 3, 300, 320) * 2 - 1
    page = cartoonise(toon, photo, faces="auto")
    api = toon.translate_tensors([photo], faces="auto")[0]
    assert torch.equal(page.tensor, api)
    assert not torch.equal(page.tensor, cartoonise(toon, photo, faces="off").tensor)
    cut = portraits(toon, photo, size=64)
    assert len(cut) == 1 and cut[0].shape == (64, 64, 3)
