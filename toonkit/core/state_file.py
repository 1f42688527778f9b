"""Reading one network's weights from a safetensors file: only the tensors that network has, each checked
(name, shape, dtype) before a byte of it is read, so memory follows the network, not the file.

A model file may hold more than the network needs, by accident or on purpose (a 3 GB tensor beside a
9 MB generator): :func:`read_state` reads the ``<prefix>/<name>`` tensors the network's own state dict
names and nothing else. A tensor of another shape is refused before it is read; weights stored as
integers (``int16``) are refused, not cast; non-finite values are refused.

Example:
    >>> expected = network_state("generator", block)  # meta tensors: names, shapes, dtypes  # doctest: +SKIP
    >>> state = read_state("model.safetensors", "generator", expected, "my_model")  # doctest: +SKIP
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import torch

from toonkit.errors import ToonkitError

__all__ = ["FLOAT_STORAGE", "StateFileError", "check_dtypes", "read_state"]

#: how floating-point weights may be stored (safetensors' dtype names); loading casts to the network's
FLOAT_STORAGE = frozenset({"F16", "BF16", "F32"})
_INT_STORAGE = frozenset({"I64", "I32", "I16", "I8", "U8", "BOOL"})


class StateFileError(ToonkitError):
    """A weights file that does not hold what the network needs (missing, extra or odd tensors)."""


def _dtype(name: str) -> str:
    """safetensors' dtype name as PyTorch spells it: ``I16`` → ``int16``."""
    match = re.fullmatch(r"(BF|I|U|F)(\d+.*)", name)
    kinds = {"I": "int", "U": "uint", "F": "float", "BF": "bfloat"}
    return kinds[match[1]] + match[2] if match else name.lower()


def _names(keys: list[str], limit: int = 3) -> str:
    return ", ".join(keys[:limit]) + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def read_state(file: str | Path, prefix: str, expected: Mapping[str, torch.Tensor], what: str,
               check_finite: bool = True) -> dict[str, torch.Tensor]:
    """The state dict of one network, read from ``file``'s ``<prefix>/<name>`` tensors.

    Args:
        file: a ``.safetensors`` file.
        prefix: the network's prefix in it (``generator``; ``ema/generator`` for a checkpoint's EMA copy).
        expected: the network's own state dict (meta tensors do: only names, shapes and dtypes are used).
        what: how to name the model in messages.
        check_finite: refuse NaN or infinite values.

    Returns:
        name → tensor, each in the dtype ``expected`` has.

    Raises:
        StateFileError: unreadable, a tensor missing, an extra one under ``prefix``, a shape that differs,
            integer storage for a float weight, or non-finite values.
    """
    from safetensors import safe_open

    state: dict[str, torch.Tensor] = {}
    try:
        with safe_open(str(file), framework="pt") as fh:
            mine = {key[len(prefix) + 1:] for key in fh.keys() if key.startswith(f"{prefix}/")}
            missing = sorted(set(expected) - mine)
            extra = sorted(mine - set(expected))
            if missing or extra:
                raise StateFileError(f"{what}: {file} does not fit {prefix}: "
                                     + "; ".join(x for x in (f"missing {_names(missing)}" if missing else "",
                                                             f"unexpected {_names(extra)}" if extra else "") if x))
            for name, ref in expected.items():
                piece = fh.get_slice(f"{prefix}/{name}")
                shape, dtype = tuple(piece.get_shape()), piece.get_dtype()
                if shape != tuple(ref.shape):  # checked before the read: a huge stand-in is never loaded
                    raise StateFileError(f"{what}: {prefix}/{name} has shape {list(shape)}, the network "
                                         f"needs {list(ref.shape)}")
                if ref.is_floating_point() and dtype not in FLOAT_STORAGE:
                    raise StateFileError(f"{what}: {prefix}/{name} is stored as {_dtype(dtype)}; weights must "
                                         "be float16, bfloat16 or float32")
                if not ref.is_floating_point() and dtype not in _INT_STORAGE:
                    raise StateFileError(f"{what}: {prefix}/{name} is stored as {_dtype(dtype)}, the network "
                                         f"keeps it as {str(ref.dtype).replace('torch.', '')}")
                state[name] = fh.get_tensor(f"{prefix}/{name}").to(ref.dtype)
    except StateFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged weights file is one clear error
        raise StateFileError(f"{what}: {file}: not a readable safetensors file ({exc})") from None
    if check_finite:
        bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
        if bad:
            raise StateFileError(f"{what}: non-finite weights in {prefix}/{bad[0]}: the model is damaged")
    return state


def check_dtypes(state: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor], what: str) -> None:
    """Refuse integer tensors for a network's floating-point weights (``load_state_dict`` would cast
    ``int16`` weights silently).

    Raises:
        StateFileError: naming the first such tensor.
    """
    for name, ref in expected.items():
        got = state.get(name)
        if got is not None and ref.is_floating_point() and not got.is_floating_point():
            raise StateFileError(f"{what}: {name} is stored as {str(got.dtype).replace('torch.', '')}; weights "
                                 "must be float16, bfloat16 or float32")
