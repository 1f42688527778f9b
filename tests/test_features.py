"""VGG features and the offline weight loading helpers (toonkit.weights)."""
from __future__ import annotations

import logging
import urllib.error
from pathlib import Path

import pytest
import torch
import torchvision

from toonkit.features import VGGFeatures, vgg_layer_names
from toonkit.weights import (
    WeightsUnavailableError,
    imagenet_features_state_dict,
    load_state_file,
)
from toonkit.weights import weights_dir as weights_dir_fn

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def _tv_features(arch: str) -> torch.nn.Sequential:
    """torchvision's own ``<arch>().features`` without building the 100 M-parameter classifier."""
    from torchvision.models.vgg import cfgs, make_layers

    return make_layers(cfgs["D" if arch == "vgg16" else "E"])


@pytest.mark.parametrize("arch", ["vgg16", "vgg19"])
def test_layer_names_follow_torchvision(arch: str) -> None:
    names, ref = vgg_layer_names(arch), _tv_features(arch)
    assert len(names) == len(ref)
    kinds = {torch.nn.Conv2d: "conv", torch.nn.ReLU: "relu", torch.nn.MaxPool2d: "pool"}
    assert [kinds[type(m)] for m in ref] == [n.rstrip("0123456789_") for n in names]
    assert names[-1] == "pool5" and ("conv5_4" in names) == (arch == "vgg19")


def test_cut_after_layer_and_keys_match_torchvision() -> None:
    f = VGGFeatures("vgg19", "conv4_4", weights="random")
    names = vgg_layer_names("vgg19")
    assert len(f.features) == names.index("conv4_4") + 1
    assert isinstance(f.features[-1], torch.nn.Conv2d)  # before the ReLU, as CartoonGAN uses it
    ref_keys = set(_tv_features("vgg19").state_dict())
    assert set(f.features.state_dict()) <= ref_keys
    assert f.out_channels == 512
    assert set(f.state_dict()) == {f"features.{k}" for k in f.features.state_dict()}  # no buffers saved


def test_layer_typo_suggests() -> None:
    with pytest.raises(ValueError, match="did you mean 'conv4_4'") as e:
        VGGFeatures("vgg19", "cnov4_4", weights="random")
    assert "valid layers: conv1_1" in str(e.value)
    with pytest.raises(ValueError, match="vgg16 has no layer 'conv4_4'; did you mean 'conv4_3'"):
        VGGFeatures("vgg16", "conv4_4", weights="random")
    with pytest.raises(ValueError, match="did you mean 'relu3_1'"):
        VGGFeatures("vgg16", layers=["relu1_1", "relu_3_1"], weights="random")


def test_frozen_eval_and_gradient_to_input() -> None:
    f = VGGFeatures("vgg16", "relu2_2", weights="random")
    f.train()
    assert not f.training and not any(m.training for m in f.modules())
    assert not any(p.requires_grad for p in f.parameters())
    x = (torch.rand(1, 3, 32, 32) * 2 - 1).requires_grad_(True)
    y = f(x)
    assert y.shape == (1, 128, 16, 16)
    y.mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_multi_layer_dict() -> None:
    torch.manual_seed(0)
    layers = ["relu3_1", "conv1_1", "relu2_1"]
    f = VGGFeatures("vgg16", layers=layers, weights="random")
    assert len(f.features) == vgg_layer_names("vgg16").index("relu3_1") + 1
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    out = f(x)
    assert list(out) == layers
    assert [tuple(v.shape) for v in out.values()] == [(2, 256, 8, 8), (2, 64, 32, 32), (2, 128, 16, 16)]
    assert f.out_channels == {"relu3_1": 256, "conv1_1": 64, "relu2_1": 128}
    # conv1_1 is returned before its ReLU: a later in-place ReLU must not have clipped it
    assert (out["conv1_1"] < 0).any()
    single = VGGFeatures("vgg16", "relu2_1", weights="random")
    single.load_state_dict(f.state_dict(), strict=False)
    assert torch.allclose(single(x), out["relu2_1"])


def test_random_weights_warn(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="toonkit"):
        VGGFeatures("vgg16", "conv1_2", weights="random")
    assert any("not perceptual" in r.getMessage() and r.name == "toonkit" for r in caplog.records)


def test_imagenet_from_weights_dir(weights_dir: Path) -> None:
    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    f = VGGFeatures("vgg16", "conv4_3", weights="imagenet")
    rand = VGGFeatures("vgg16", "conv4_3", weights="random")
    y = f(x)
    assert not torch.allclose(y, rand(x))
    # same as torchvision's features on ImageNet-normalised [0, 1] input
    ref = _tv_features("vgg16")
    ref.load_state_dict(load_state_file(weights_dir / "vgg16_imagenet_features.safetensors"))
    with torch.no_grad():
        expected = ref[: len(f.features)](((x + 1) / 2 - MEAN) / STD)
    assert torch.allclose(y, expected, atol=1e-4, rtol=1e-4)


def test_weights_from_paths(weights_dir: Path, tmp_path: Path) -> None:
    """A safetensors file, or a torch state dict with whole-model keys ("features.0.weight", ...)."""
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    src = weights_dir / "vgg16_imagenet_features.safetensors"
    via_dir = VGGFeatures("vgg16", "relu3_3")(x)
    via_file = VGGFeatures("vgg16", "relu3_3", weights=str(src))(x)
    whole = {f"features.{k}": v for k, v in load_state_file(src).items()}
    whole["classifier.0.weight"] = torch.zeros(2, 2)  # keys of the whole model, classifier included
    torch.save({"state_dict": whole}, tmp_path / "vgg16_full.pth")
    via_torch = VGGFeatures("vgg16", "relu3_3", weights=str(tmp_path / "vgg16_full.pth"))(x)
    assert torch.equal(via_dir, via_file) and torch.equal(via_dir, via_torch)


def test_bad_weights_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'imagenet', 'random' or an existing file"):
        VGGFeatures("vgg16", "conv4_3", weights=str(tmp_path / "missing.pth"))
    torch.save({"0.weight": torch.zeros(64, 3, 3, 3)}, tmp_path / "partial.pth")
    with pytest.raises(ValueError, match="lack 0.bias"):
        VGGFeatures("vgg16", "conv2_1", weights=str(tmp_path / "partial.pth"))


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No weights on disk, an empty torch hub cache, and a download that fails at once like a dead network."""
    empty = tmp_path / "weights"
    empty.mkdir()
    monkeypatch.setenv("TOONKIT_WEIGHTS_DIR", str(empty))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def no_network(url: str, *args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    return empty


@pytest.mark.parametrize("arch", ["vgg16", "vgg19"])
def test_imagenet_offline_raises_one_line(offline: Path, arch: str) -> None:
    with pytest.raises(WeightsUnavailableError) as e:
        VGGFeatures(arch, "conv3_1")
    msg = str(e.value)
    assert "\n" not in msg and e.value.__suppress_context__
    assert f"{arch}_imagenet_features.safetensors" in msg and str(offline) in msg
    assert "TOONKIT_WEIGHTS_DIR" in msg
    url_name = torchvision.models.get_model_weights(arch).IMAGENET1K_V1.url.rsplit("/", 1)[-1]
    assert url_name in msg  # torchvision's own cache file is the other way to provide them


def test_imagenet_falls_back_to_torchvision_cache(offline: Path, weights_dir: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Without TOONKIT_WEIGHTS_DIR, torchvision's weights API finds its checkpoint in torch hub's cache."""
    src = load_state_file(weights_dir / "vgg16_imagenet_features.safetensors")
    monkeypatch.delenv("TOONKIT_WEIGHTS_DIR")
    assert weights_dir_fn() is None
    cache = Path(torch.hub.get_dir()) / "checkpoints"
    cache.mkdir(parents=True)
    url = torchvision.models.VGG16_Weights.IMAGENET1K_V1.url
    torch.save({f"features.{k}": v for k, v in src.items()}, cache / url.rsplit("/", 1)[-1])
    got = imagenet_features_state_dict("vgg16")  # the download is patched to fail: this reads the cache
    assert set(got) == set(src) and all(torch.equal(got[k], src[k]) for k in src)


def test_load_state_file_formats(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    t = {"a": torch.arange(3.0)}
    save_file(t, tmp_path / "w.safetensors")
    torch.save(t, tmp_path / "w.pt")
    torch.save({"model": t, "step": 3}, tmp_path / "ckpt.pt")
    for name in ("w.safetensors", "w.pt", "ckpt.pt"):
        assert torch.equal(load_state_file(tmp_path / name)["a"], t["a"])
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="does not hold a state dict"):
        load_state_file(tmp_path / "list.pt")


def test_weights_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TOONKIT_WEIGHTS_DIR", raising=False)
    assert weights_dir_fn() is None
    monkeypatch.setenv("TOONKIT_WEIGHTS_DIR", str(tmp_path))
    assert weights_dir_fn() == tmp_path


def test_bf16_autocast_channels_last() -> None:
    torch.manual_seed(0)
    f = VGGFeatures("vgg16", "relu3_3", weights="random").to(memory_format=torch.channels_last)
    x = (torch.rand(2, 3, 32, 32) * 2 - 1).contiguous(memory_format=torch.channels_last)
    ref = f(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = f(x)
    assert y.shape == ref.shape and torch.isfinite(y).all()
    assert (y.float() - ref).abs().mean() < 0.05 * ref.abs().mean()
