"""Models as folders (the ``save_pretrained`` / ``from_pretrained`` convention) and where they come from.

A model folder holds what translation needs and nothing of training::

    my_model/
      config.json          # format, name, the model's spec (method block, the generator's and masker's
                           # blocks by slot, training size), dtype, toonkit version, facts of its training
      model.safetensors    # "<slot>/<param>" tensors of those networks (fp16 by default)
      README.md            # the model card

:mod:`toonkit.translate.stored` reads it back (older formats included).

:func:`resolve_model` turns what a user types into such a folder: a registered model name
(``handpainted``, or one a plugin registers, see :mod:`toonkit.pretrained`), ``hf://owner/name`` (or
``hf://owner/name@revision``) for a model on the Hugging Face Hub, fetched into the Hub's own cache by
``huggingface_hub`` (``HF_HUB_OFFLINE=1`` uses only that cache), or a local folder.

Example:
    >>> toon = toonkit.load("runs/me")  # doctest: +SKIP
    >>> save_pretrained(toon, "my_model", card="# My model\\n\\nTrained on my selfies.")  # doctest: +SKIP
    >>> toonkit.load("my_model").translate(photo)  # doctest: +SKIP
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from toonkit._version import __version__
from toonkit.errors import describe_error
from toonkit.io_utils import temp_sibling
from toonkit.translate.errors import TranslateError
from toonkit.pretrained import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, PretrainedModel

if TYPE_CHECKING:
    from toonkit.translate.api import Cartoonizer  # noqa: F401 (type only)

#: the format of model folders written now (``config.json``'s ``format``)
MODEL_FORMAT = "toonkit-model-2"
HUB_PREFIX = "hf://"
_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}


def is_model_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder in toonkit's model format."""
    p = Path(path)
    return p.is_dir() and (p / CONFIG_FILE).is_file() and (p / WEIGHTS_FILE).is_file()


def resolve_model(source: str | Path) -> Path | None:
    """The model folder ``source`` names, or None when it names no model (a run or checkpoint, say).

    An existing path wins over a registered name of the same spelling.

    Raises:
        TranslateError: ``hf://`` without ``huggingface_hub`` installed, or a Hub model that cannot be
            fetched (offline and not cached, unknown repository).
    """
    text = str(source)
    if text.startswith(HUB_PREFIX):
        return _from_hub(text[len(HUB_PREFIX):])
    path = Path(text).expanduser()
    if path.exists():
        return path if is_model_folder(path) else None
    from toonkit.plugins import get_registry

    registry = get_registry()
    if ("model", text) in registry:
        model = registry.get("model", text).factory()
        if isinstance(model, PretrainedModel):
            return model.folder
    return None


def _from_hub(spec: str) -> Path:

    repo, _, revision = spec.partition("@")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise TranslateError(f"hf://{spec}: expected hf://owner/name or hf://owner/name@revision")
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise TranslateError("hf:// models need huggingface_hub: pip install huggingface_hub") from None
    try:
        folder = Path(snapshot_download(repo, revision=revision or None,
                                        allow_patterns=[CONFIG_FILE, WEIGHTS_FILE, CARD_FILE]))
    except Exception as exc:  # noqa: BLE001 - offline, unknown repo, auth: one line either way
        raise TranslateError(f"hf://{spec}: cannot fetch the model ({describe_error(exc, limit=None)})") from None
    if not is_model_folder(folder):
        raise TranslateError(f"hf://{spec}: the repository holds no toonkit model ({CONFIG_FILE} and "
                             f"{WEIGHTS_FILE})")
    return folder


def save_pretrained(toon: "Cartoonizer", folder: str | Path, card: str | None = None, name: str | None = None,
                    dtype: torch.dtype = torch.float16, masker: bool = True, overwrite: bool = False,
                    extra: dict[str, Any] | None = None) -> Path:
    """Write ``toon``'s generator (and masker) as a model folder, atomically.

    ``config.json`` holds the model's :class:`~toonkit.methods.spec.ModelSpec` restricted to what
    translation uses, so :func:`toonkit.load` rebuilds it through
    :func:`~toonkit.methods.spec.load_method` like a run.

    Args:
        toon: a loaded model (from a run, checkpoint or another folder: it knows its spec).
        folder: where to write; must not exist unless ``overwrite``.
        card: the model card (Markdown) written as ``README.md``; a short generated one by default.
        name: the model's name in ``config.json`` (default: the folder's name).
        dtype: storage dtype of the weights (fp16 halves the size; loading casts back to float32).
        masker: include the masker when ``toon`` has one.
        overwrite: replace an existing folder.
        extra: more fields for ``config.json`` (e.g. training facts).

    Returns:
        the folder.
    """
    from safetensors.torch import save_file

    from toonkit.methods.spec import SPEC_FIELDS

    if toon.spec is None:
        raise TranslateError("this model was built from networks, not loaded: its network blocks are "
                             "unknown (load it from a run, checkpoint or model folder first)")
    clash = sorted(set(extra or {}) & {"format", "name", "dtype", "toonkit_version", *SPEC_FIELDS})
    if clash:
        raise TranslateError(f"extra fields {', '.join(clash)} would replace the model's own in config.json")
    folder = Path(folder)
    if folder.exists() and not overwrite:
        raise TranslateError(f"{folder} exists: pass overwrite=True (CLI: --overwrite) to replace it")
    # overwrite replaces what an earlier save wrote, nothing else: "-o RUN --overwrite" or "-o . --overwrite"
    # would otherwise delete a run's checkpoints or a whole working folder
    ours = {CONFIG_FILE, WEIGHTS_FILE, CARD_FILE}
    if folder.exists() and (folder.is_symlink() or not folder.is_dir()
                            or not {p.name for p in folder.iterdir()} <= ours):
        raise TranslateError(f"{folder} exists and holds more than a model folder's {', '.join(sorted(ours))}: "
                             "refusing to replace it, even with overwrite; choose a new folder")
    spec = toon.spec.for_translation(masker=masker and toon.masker is not None)
    roles = spec.method_class().roles
    modules = {roles.generator: toon.generator}
    if roles.masker in spec.nets and toon.masker is not None:
        modules[roles.masker] = toon.masker
    tensors = {f"{net}/{k}": (v.detach().to("cpu", dtype) if v.is_floating_point() else v.detach().cpu()).contiguous()
               for net, module in modules.items() for k, v in module.state_dict().items()}
    meta = {"format": MODEL_FORMAT, "name": name or folder.name, **spec.to_dict(),
            "dtype": str(dtype).replace("torch.", ""), "toonkit_version": __version__, **(extra or {})}
    card = card if card is not None else (f"# {meta['name']}\n\nA toonkit model ({spec.method_name}, trained at "
                                          f"{spec.size}²).\n")
    folder.parent.mkdir(parents=True, exist_ok=True)
    # the shared temporary naming (with the writer's PID), so remove_stale_temps knows a killed save's leftovers
    tmp = temp_sibling(folder, directory=True)
    try:
        save_file(tensors, str(tmp / WEIGHTS_FILE), metadata={"format": MODEL_FORMAT})
        (tmp / CONFIG_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        (tmp / CARD_FILE).write_text(card, encoding="utf-8")
        _default_permissions(tmp)  # mkdtemp makes it private; a model folder is meant to be shared
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _default_permissions(folder: Path) -> None:
    """The folder and its files with the permissions a plain ``mkdir`` / ``open`` would give them."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(folder, 0o777 & ~umask)
    for file in folder.iterdir():
        os.chmod(file, 0o666 & ~umask)
