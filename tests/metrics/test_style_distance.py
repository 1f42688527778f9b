"""FD/KID: torchmetrics' statistics on VGG16 features, labelled as such, on known cases."""
from __future__ import annotations

import math

import sys
import types
import urllib.error

import pytest
import torch

from toonkit.metrics import (
    EvalContext,
    StyleDistance,
    VGG16PooledFeatures,
    WeightsUnavailableError,
    frechet_and_kid,
    style,
)
from toonkit.metrics.style import inception_weights_path


def test_statistics_on_known_feature_sets() -> None:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(64, 16, generator=g)
    b = torch.randn(64, 16, generator=g)
    fd_same, kid_same, _ = frechet_and_kid(a, a)
    assert abs(fd_same) < 1e-6
    fd_shift, kid_shift, _ = frechet_and_kid(a, a + 1.0)
    assert fd_shift == pytest.approx(16.0, rel=1e-6)  # ||mu1 - mu2||^2, covariances equal
    # the unbiased MMD² of a set against itself is -O(1/n) (the pairs share samples), not exactly 0,
    # but small next to a real difference
    assert kid_shift > 1.0 and -0.1 * kid_shift < kid_same <= 0
    fd_other, _, _ = frechet_and_kid(a, b)
    assert 0 < fd_other < fd_shift  # same distribution, sampling noise only


def test_kid_subset_size_adapts_and_is_seeded() -> None:
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(5, 8, generator=g), torch.randn(7, 8, generator=g) + 0.5
    _, _, kid_std = frechet_and_kid(a, b, kid_subset_size=1000)  # subset size capped to 5
    assert kid_std > 0  # 5 of 7 outputs per subset: subsets differ
    _, _, kid_std = frechet_and_kid(a, b[:5])  # 4-5 images: every subset is both whole sets
    assert math.isnan(kid_std)  # no spread can be measured, which is not a spread of 0
    assert frechet_and_kid(a, b, seed=3) == frechet_and_kid(a, b, seed=3)
    with pytest.raises(ValueError, match="at least 2"):
        frechet_and_kid(a[:1], b)


def test_random_vgg_features_distinguish_sets(portraits) -> None:
    # the statistic end to end without ../shared: a randomly initialised VGG16 as the embedding
    torch.manual_seed(0)
    images, _ = portraits
    metric = StyleDistance(image_size=32).set_extractor(VGG16PooledFeatures(32, pretrained=False), "VGG16-random")
    assert metric.columns() == ("FD-VGG16-random", "KID-VGG16-random", "KID-VGG16-random_std")
    same = metric(EvalContext(inputs=images, outputs=images, references=images))
    other = metric(EvalContext(inputs=images, outputs=-images, references=images))
    assert abs(same["FD-VGG16-random"]) < 1e-6 * other["FD-VGG16-random"]
    assert other["FD-VGG16-random"] > 0


def test_pretrained_vgg16_fd_and_kid(imagenet_weights, portraits, paint) -> None:
    images, _ = portraits
    metric = StyleDistance(backend="vgg16", image_size=64)
    cols = metric.columns()
    assert cols == ("FD-VGG16", "KID-VGG16", "KID-VGG16_std") and not any("FID" in c for c in cols)
    refs = images.flip(-1)  # a reference set with the same style statistics (mirrored)
    same = metric(EvalContext(inputs=images, outputs=refs, references=refs))
    other = metric(EvalContext(inputs=images, outputs=paint(images), references=refs))
    assert abs(same["FD-VGG16"]) < 1e-3
    assert other["FD-VGG16"] > 1.0
    assert abs(same["KID-VGG16"]) < 0.1 * other["KID-VGG16"]
    # the reference features were cached: same tensor, same device
    assert metric._ref_cache is not None and metric._ref_cache[0] is refs


def test_auto_falls_back_to_labelled_vgg16(no_weights) -> None:
    assert inception_weights_path() is None
    metric = StyleDistance()
    assert metric.columns() == ("FD-VGG16", "KID-VGG16", "KID-VGG16_std")
    assert metric.inception_unavailable  # the reason is kept for the benchmark log
    with pytest.raises(WeightsUnavailableError, match="inception"):
        StyleDistance(backend="inception").columns()


def test_inception_download_failure_is_fast_fallback(no_weights, monkeypatch: pytest.MonkeyPatch) -> None:
    # with torch-fidelity present but no file and no network, loading gives up instead of raising
    monkeypatch.setitem(sys.modules, "torch_fidelity", types.ModuleType("torch_fidelity"))

    def offline(path):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(style, "InceptionPoolFeatures", offline)
    net, reason = style.load_inception()
    assert net is None and "could not be downloaded" in reason and "\n" not in reason

    def broken(path):
        raise RuntimeError("size mismatch")  # a corrupt file is a real error, not a fallback

    monkeypatch.setattr(style, "InceptionPoolFeatures", broken)
    with pytest.raises(RuntimeError, match="size mismatch"):
        style.load_inception()


def test_missing_vgg_weights_fail_with_one_line(no_weights, portraits) -> None:
    images, _ = portraits
    metric = StyleDistance()  # building needs no weights
    with pytest.raises(WeightsUnavailableError) as err:
        metric(EvalContext(inputs=images, outputs=images, references=images))
    assert "vgg16_imagenet_features.safetensors" in str(err.value) and "\n" not in str(err.value)


def test_outputs_come_from_translate_when_absent(portraits) -> None:
    images, _ = portraits
    calls = []

    def translate(x: torch.Tensor) -> torch.Tensor:
        calls.append(x.shape[0])
        return x

    pooled_colours = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(4), torch.nn.Flatten())  # cheap 48-d
    metric = StyleDistance().set_extractor(pooled_colours, "r")
    ctx = EvalContext(inputs=images, references=images, translate=translate)
    assert abs(metric(ctx)["FD-r"]) < 1e-6
    metric(ctx)
    assert sum(calls) == images.shape[0]  # translated once, then reused
