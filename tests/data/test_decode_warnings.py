"""Importing the decoder leaves the importing program's warning filters alone."""
from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import warnings
import numpy, PIL.Image, torch, torchvision  # their own filters, installed at their import
before = list(warnings.filters)
import toonkit.data.decode
added = [f for f in warnings.filters if f not in before]
print(added)
"""


def test_import_installs_no_warning_filter() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
