"""A generated corpus of malformed and hostile image files through ``toonkit translate``: one line per bad
file, the good ones all written, nothing overwritten, no traceback, exit code 1."""
from __future__ import annotations

from pathlib import Path

import pytest

from toonkit.cli.main import main

from .corpus import make_corpus
from .helpers import snapshot, tiny_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_run(tmp_path_factory.mktemp("run"))


def test_hostile_corpus_fails_per_file(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    corpus = tmp_path / "corpus"
    valid, bad, truncated = make_corpus(corpus)
    assert len(valid) + len(bad) + len(truncated) >= 60
    before = snapshot(corpus)
    out = tmp_path / "out"
    rc = main(["translate", str(run_dir), str(corpus), "-o", str(out), "-q"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert rc == 1
    lines = [line for line in err.splitlines() if line.startswith("toonkit translate: ")]
    # an animated GIF is a clip since video support: it comes back as a GIF, every other image as a PNG
    written = {str(p.relative_to(out).with_suffix(".png")) for p in [*out.rglob("*.png"), *out.rglob("*.gif")]}

    def complaints(name: str) -> list[str]:
        return [line for line in lines if line.startswith(f"toonkit translate: {corpus / name}: ")]

    for name in valid:
        assert str(Path(name).with_suffix(".png")) in written, f"{name} not translated: {complaints(name)}"
        assert not complaints(name)
    for name in bad:
        assert len(complaints(name)) == 1, f"{name}: expected one line, got {complaints(name)}"
        assert str(Path(name).with_suffix(".png")) not in written
    for name in truncated:  # decoded in part, or refused: one or the other
        done = str(Path(name).with_suffix(".png")) in written
        assert done != (len(complaints(name)) == 1), name
    assert snapshot(corpus) == before, "an input changed"
    assert len(written) == len(valid) + sum(str(Path(n).with_suffix(".png")) in written for n in truncated)


def _photo(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (40, 32), (200, 100, 50)).save(path)
    return path


def test_overwrite_never_replaces_the_input_file(run_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    photo = _photo(tmp_path / "a.png")
    original = photo.read_bytes()
    rc = main(["translate", str(run_dir), str(photo), "-o", str(tmp_path), "--overwrite", "-q"])
    err = capsys.readouterr().err
    assert rc == 1
    assert photo.read_bytes() == original
    assert [line for line in err.splitlines() if "a.png" in line and "replace this input" in line]


def test_overwrite_into_the_input_folder_keeps_inputs(run_dir: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    a, b = _photo(folder / "a.png"), _photo(folder / "b.jpg")
    before = a.read_bytes(), b.read_bytes()
    rc = main(["translate", str(run_dir), str(folder), "-o", str(folder), "--overwrite", "-q"])
    err = capsys.readouterr().err
    assert rc == 1  # a.png could not be written without destroying it
    assert (a.read_bytes(), b.read_bytes()) == before
    assert (folder / "b.png").is_file()  # b.jpg's cartoon is a new file beside it
    assert sum("replace this input" in line for line in err.splitlines()) == 1


def test_symlinked_output_folder_is_seen_through(run_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    a = _photo(folder / "a.png")
    original = a.read_bytes()
    (tmp_path / "alias").symlink_to(folder)
    rc = main(["translate", str(run_dir), str(a), "-o", str(tmp_path / "alias"), "--overwrite", "-q"])
    assert rc == 1 and a.read_bytes() == original
