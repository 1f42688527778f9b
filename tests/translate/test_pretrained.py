"""Models as folders: save_pretrained / load, registered models (built-in and a plugin's), the Hub cache."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import toonkit
import toonkit.plugins
from toonkit.pretrained import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, PretrainedModel
from toonkit.translate.api import Cartoonizer
from toonkit.translate.errors import TranslateError
from toonkit.translate.pretrained import is_model_folder, save_pretrained

from .helpers import noise_image


@pytest.fixture(scope="module")
def model_folder(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    toon = toonkit.load(run_dir, device="cpu")
    return toon.save_pretrained(tmp_path_factory.mktemp("models") / "tiny", card="# tiny\n\nA test model.\n")


def test_saved_folder_holds_fp16_generator_and_masker(model_folder: Path) -> None:
    assert is_model_folder(model_folder)
    config = json.loads((model_folder / CONFIG_FILE).read_text())
    assert config["format"] == "toonkit-model-2" and config["method"]["type"] == "selfie_gan"
    assert config["size"] == 32 and config["dtype"] == "float16"
    assert set(config["nets"]) == {"generator", "masker"}
    with safe_open(str(model_folder / WEIGHTS_FILE), framework="pt") as fh:
        keys = list(fh.keys())
        dtypes = {fh.get_tensor(k).dtype for k in keys if fh.get_tensor(k).is_floating_point()}
    assert {k.split("/")[0] for k in keys} == {"generator", "masker"}
    assert dtypes == {torch.float16}
    assert (model_folder / CARD_FILE).read_text().startswith("# tiny")


def test_folder_translates_like_the_run(run_dir: Path, model_folder: Path) -> None:
    photo = torch.rand(1, 3, 40, 52) * 2 - 1
    from_run = toonkit.load(run_dir, device="cpu", channels_last=False)
    from_folder = toonkit.load(model_folder, device="cpu", channels_last=False)
    assert isinstance(from_folder, Cartoonizer) and from_folder.size == 32 and from_folder.has_masker
    a = from_run.translate(photo, background="white", size="original")
    b = from_folder.translate(photo, background="white", size="original")
    assert a.shape == b.shape == photo.shape
    # fp16 storage rounds each weight to ~3 significant digits: outputs agree to well under a grey level
    assert (a - b).abs().max() < 2 / 255


def test_folder_round_trips_and_refuses_to_clobber(model_folder: Path, tmp_path: Path) -> None:
    again = toonkit.load(model_folder, device="cpu").save_pretrained(tmp_path / "copy")
    assert json.loads((again / CONFIG_FILE).read_text())["nets"] == \
        json.loads((model_folder / CONFIG_FILE).read_text())["nets"]
    with pytest.raises(TranslateError, match="exists"):
        toonkit.load(model_folder, device="cpu").save_pretrained(again)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left behind


def test_damaged_weights_are_refused(model_folder: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    toonkit.load(model_folder, device="cpu").save_pretrained(bad)
    with safe_open(str(bad / WEIGHTS_FILE), framework="pt") as fh:
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    first = next(k for k in tensors if k.startswith("generator/") and tensors[k].is_floating_point())
    tensors[first] = torch.full_like(tensors[first], float("nan"))
    save_file(tensors, str(bad / WEIGHTS_FILE), metadata={"format": "toonkit-model-2"})
    with pytest.raises(toonkit.ModelError, match="nets.generator: non-finite weights"):
        toonkit.load(bad, device="cpu")


def test_unknown_name_suggests_registered_models() -> None:
    with pytest.raises(TranslateError, match="did you mean 'handpainted'"):
        toonkit.load("handpainte")


def test_shipped_model_is_registered_and_paints_at_input_size() -> None:
    entry = toonkit.get_registry().get("model", "handpainted")
    model = entry.factory()
    assert isinstance(model, PretrainedModel) and entry.plugin == "builtin"
    assert entry.summary and "Selfie-GAN" in model.card
    size = sum(p.stat().st_size for p in model.folder.iterdir())
    assert size <= 16 * 2**20, f"the shipped model must stay under 16 MB, it is {size / 2**20:.1f} MB"
    toon = toonkit.load("handpainted", device="cpu")
    assert toon.has_masker
    out = toon.translate(noise_image(70, 90), size="original", background="white")
    assert out.size == (90, 70)


def test_cli_translates_and_exports_a_model_folder(model_folder: Path, tmp_path: Path) -> None:
    noise_image(36, 44).save(tmp_path / "me.png")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-m", "toonkit", "translate", str(model_folder), str(tmp_path / "me.png"),
                           "-o", str(tmp_path / "out"), "-q"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "me.png").is_file()
    done = subprocess.run([sys.executable, "-m", "toonkit", "export", str(model_folder), "--format",
                           "torchscript", "-o", str(tmp_path / "g.pt")], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "ok: max abs difference" in done.stdout


PLUGIN = '''
from pathlib import Path
from toonkit.plugins import hookimpl
from toonkit.pretrained import register_model


@hookimpl
def toonkit_register(registry):
    register_model(registry, "plugmodel", Path({folder!r}))
'''


def test_a_plugin_ships_a_model(model_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "toonkit_plugmodel.py").write_text(textwrap.dedent(PLUGIN.format(folder=str(model_folder))))
    info = site / "toonkit_plugmodel-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toonkit-plugmodel\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[toonkit]\nplugmodel = toonkit_plugmodel\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv("TOONKIT_DISABLE_PLUGINS", raising=False)
    toonkit.plugins.reset()
    try:
        entry = toonkit.get_registry().get("model", "plugmodel")
        assert entry.plugin == "plugmodel" and entry.summary == "A test model."
        toon = toonkit.load("plugmodel", device="cpu")
        assert toon.translate(torch.zeros(1, 3, 32, 32)).shape == (1, 3, 32, 32)
        from toonkit.testing import check_component

        assert check_component(entry) == "loaded, translated, masked"
    finally:
        sys.modules.pop("toonkit_plugmodel", None)
        toonkit.plugins.reset()


def _hub_cache(root: Path, repo: str, folder: Path, revision: str = "a" * 40) -> Path:
    """The layout huggingface_hub keeps for a downloaded model repository."""
    owner, name = repo.split("/")
    base = root / f"models--{owner}--{name}"
    snapshot = base / "snapshots" / revision
    snapshot.mkdir(parents=True)
    for file in folder.iterdir():
        (snapshot / file.name).write_bytes(file.read_bytes())
    (base / "refs").mkdir()
    (base / "refs" / "main").write_text(revision)
    return root


def test_hub_model_loads_offline_from_the_hub_cache(model_folder: Path, tmp_path: Path) -> None:
    pytest.importorskip("huggingface_hub")
    cache = _hub_cache(tmp_path / "hub", "someone/tiny-toon", model_folder)
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    code = ("import toonkit, torch; t = toonkit.load('hf://someone/tiny-toon', device='cpu'); "
            "print(t.size, t.has_masker, tuple(t.translate(torch.zeros(1, 3, 32, 32)).shape))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["32", "True", "(1,", "3,", "32,", "32)"]
    code = "import toonkit; toonkit.load('hf://someone/not-cached')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode != 0 and "hf://someone/not-cached: cannot fetch the model" in done.stderr


def test_built_networks_cannot_be_saved_without_their_blocks(tmp_path: Path) -> None:
    toon = Cartoonizer(toonkit.build("generator", "cartoongan", base_channels=4, res_blocks=1), device="cpu")
    with pytest.raises(TranslateError, match="network blocks are unknown"):
        save_pretrained(toon, tmp_path / "x")


def test_list_model_shows_the_card() -> None:
    done = subprocess.run([sys.executable, "-m", "toonkit", "list", "model", "handpainted", "--card"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "handpainted" in done.stdout and "card: " in done.stdout
    assert "## How it was trained" in done.stdout  # the whole card, not only its summary


def test_export_names_its_file_after_the_model(model_folder: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "toonkit", "export", str(model_folder), "--format", "torchscript"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "tiny.pt").is_file()
    done = subprocess.run([sys.executable, "-m", "toonkit", "export", str(model_folder), "--format", "pretrained"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert is_model_folder(tmp_path / "tiny_model")
    done = subprocess.run([sys.executable, "-m", "toonkit", "export", str(model_folder)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "give -o FILE" in done.stderr
    # -o an existing folder: the file goes inside it, named the same way (as translate's -o out/)
    (tmp_path / "out").mkdir()
    done = subprocess.run([sys.executable, "-m", "toonkit", "export", str(model_folder), "--format", "torchscript",
                           "-o", "out"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "tiny.pt").is_file()
