"""No write follows a link or lands outside the named output, and no output replaces an input of the call:
``translate``, ``export`` (files and model folders), ``data masks``, with temporaries beside the final
file, cleaned when a killed writer left them, and short enough for any file system."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from toonkit.cli.main import main

from .helpers import digest, snapshot


def _photo(path: Path, colour: tuple[int, int, int] = (200, 100, 50)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 32), colour).save(path)
    return path


def _lines(err: str, command: str) -> list[str]:
    assert "Traceback" not in err, err
    return [line for line in err.splitlines() if line.startswith(f"toonkit {command}:")]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# -- translate ------------------------------------------------------------------------------------------
def test_overwrite_never_replaces_another_input(run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture) -> None:
    """The issue's case: ``out/sub/a.png`` is an input, and ``photos/sub/a.jpg``'s output is that file."""
    monkeypatch.chdir(tmp_path)
    _photo(Path("photos/sub/a.jpg"))
    victim = _photo(Path("out/sub/a.png"), (10, 200, 10))
    before = digest(victim)
    rc = main(["translate", str(run_dir), "out/sub/a.png", "photos/*/a.jpg", "-o", "out", "--overwrite", "-q"])
    lines = _lines(capsys.readouterr().err, "translate")
    assert digest(victim) == before, "an input was replaced by another input's output"
    assert rc == 1
    assert any("photos/sub/a.jpg" in line and "out/sub/a.png" in line for line in lines), lines
    assert Path("out/a.png").is_file()  # out/sub/a.png's own output is written


def test_symlinked_subfolder_inside_output_is_not_followed(run_dir: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    _photo(tmp_path / "photos" / "sub" / "a.jpg")
    _photo(tmp_path / "photos" / "b.jpg")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").symlink_to(elsewhere, target_is_directory=True)
    rc = main(["translate", str(run_dir), str(tmp_path / "photos"), "-o", str(out), "-q"])
    lines = _lines(capsys.readouterr().err, "translate")
    assert list(elsewhere.iterdir()) == [], "a write followed a link inside -o"
    assert rc == 1 and (out / "b.png").is_file()
    assert any("a.jpg" in line and "link" in line for line in lines), lines


def test_symlinked_output_file_is_not_written_through(run_dir: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    photo = _photo(tmp_path / "photos" / "a.jpg")
    victim = _photo(tmp_path / "victim.png", (0, 0, 255))
    before = digest(victim)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").symlink_to(victim)
    rc = main(["translate", str(run_dir), str(photo), "-o", str(out), "--overwrite", "-q"])
    lines = _lines(capsys.readouterr().err, "translate")
    assert digest(victim) == before and rc == 1 and len(lines) == 1 and "link" in lines[0], lines


def test_stale_temporaries_of_a_killed_translate_are_removed(run_dir: Path, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    _photo(photos / "a.jpg")
    _photo(photos / "sub" / "b.jpg")
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    dead = _dead_pid()
    stale = [out / f".a.png.tmp-{dead}-x1y2z3", out / "sub" / f".b.png.tmp-{dead}-abcdef"]
    live = out / f".c.png.tmp-{os.getpid()}-qqqqqq"  # a writer still running: never touched
    for path in [*stale, live]:
        path.write_bytes(b"half a png")
    assert main(["translate", str(run_dir), str(photos), "-o", str(out), "-q"]) == 0
    assert not [p for p in stale if p.exists()], "a killed translate's temporaries were kept"
    assert live.exists()


def test_nested_outputs_into_a_new_output_folder(run_dir: Path, tmp_path: Path) -> None:
    """The folders below -o are made one by one (never through a link), -o itself first."""
    _photo(tmp_path / "photos" / "a" / "b" / "c.png")
    out = tmp_path / "new" / "out"
    assert main(["translate", str(run_dir), str(tmp_path / "photos"), "-o", str(out), "-q"]) == 0
    assert (out / "a" / "b" / "c.png").is_file()


def test_long_input_names_get_short_temporaries(run_dir: Path, tmp_path: Path) -> None:
    photo = _photo(tmp_path / ("x" * 240 + ".jpg"))
    out = tmp_path / "out"
    assert main(["translate", str(run_dir), str(photo), "-o", str(out), "-q"]) == 0
    assert (out / ("x" * 240 + ".png")).is_file()


def test_output_with_a_tilde_is_the_home_folder(run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    photo = _photo(tmp_path / "a.jpg")
    assert main(["translate", str(run_dir), str(photo), "-o", "~/x", "-q"]) == 0
    assert (home / "x" / "a.png").is_file()
    assert not (work / "~").exists()


# -- export ---------------------------------------------------------------------------------------------
def test_export_never_writes_through_a_symlink(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    victim = tmp_path / "precious.bin"
    victim.write_bytes(b"keep me")
    link = tmp_path / "m.pt"
    link.symlink_to(victim)
    rc = main(["export", str(run_dir), "-o", str(link), "--overwrite"])
    lines = _lines(capsys.readouterr().err, "export")
    assert victim.read_bytes() == b"keep me"
    assert rc == 2 and len(lines) == 1 and "link" in lines[0], lines


def test_export_writes_through_a_temporary(run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture) -> None:
    """A writer that dies halfway leaves the old file under the final name, and no temporary."""
    target = tmp_path / "m.pt"
    target.write_bytes(b"the previous export")

    def half_then_die(module, path, *args, **kwargs):  # type: ignore[no-untyped-def]
        Path(path).write_bytes(b"half")
        raise RuntimeError("killed")

    monkeypatch.setattr(torch.jit, "save", half_then_die)
    rc = main(["export", str(run_dir), "-o", str(target), "--overwrite"])
    capsys.readouterr()
    assert rc == 1
    assert target.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


def test_stale_temporaries_of_a_killed_export_are_removed(run_dir: Path, tmp_path: Path) -> None:
    dead = _dead_pid()
    stale = tmp_path / f".m.pt.tmp-{dead}-0123456789ab"
    other = tmp_path / f".photo.png.tmp-{dead}-0123456789ab"  # another writer's: not this export's to clean
    for path in (stale, other):
        path.write_bytes(b"half")
    assert main(["export", str(run_dir), "-o", str(tmp_path / "m.pt")]) == 0
    assert not stale.exists() and other.exists()


def test_export_output_under_a_file_is_one_line(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "FILE").write_text("not a folder")
    rc = main(["export", str(run_dir), "-o", str(tmp_path / "FILE" / "x.pt")])
    lines = _lines(capsys.readouterr().err, "export")
    assert rc == 2 and len(lines) == 1 and "FILE" in lines[0], lines


def _toonkit(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toonkit", *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def test_fifo_as_export_output_is_refused(run_dir: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "m.pt"
    os.mkfifo(fifo)
    done = _toonkit("export", str(run_dir), "-o", str(fifo), "--overwrite")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "regular file" in done.stderr


def test_export_pretrained_never_replaces_its_own_input(model_folder: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    before = snapshot(model_folder)
    rc = main(["export", str(model_folder), "--format", "pretrained", "-o", str(model_folder), "--overwrite"])
    lines = _lines(capsys.readouterr().err, "export")
    assert rc == 2 and len(lines) == 1 and "input" in lines[0], lines
    assert snapshot(model_folder) == before


def test_export_never_replaces_its_masker_file(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import toonkit

    masker = toonkit.build("masker", "unet")  # what a bare weights file is built as
    weights = tmp_path / "masker.pt"
    torch.save(masker.state_dict(), weights)
    before = digest(weights)
    rc = main(["export", str(run_dir), "--with-masker", "--masker", str(weights), "-o", str(weights),
               "--format", "torchscript", "--overwrite"])
    lines = _lines(capsys.readouterr().err, "export")
    assert digest(weights) == before
    assert rc == 2 and any("input" in line for line in lines), lines


# -- data masks -----------------------------------------------------------------------------------------
def test_masks_never_replace_the_photo(tmp_path: Path) -> None:
    from toonkit.data.teacher import TeacherError, write_masks

    class Everyone(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.ones_like(x[:, :1]) * 10

    photo = _photo(tmp_path / "p" / "a.png")
    before = digest(photo)
    with pytest.raises(TeacherError):  # its mask would be the photo itself
        write_masks(photo, tmp_path / "p", teacher=Everyone(), overwrite=True, device="cpu")
    assert digest(photo) == before


def test_masks_never_write_through_a_link(tmp_path: Path) -> None:
    from toonkit.data.teacher import write_masks

    class Everyone(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.ones_like(x[:, :1]) * 10

    _photo(tmp_path / "photos" / "sub" / "a.png")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "masks").mkdir()
    (tmp_path / "masks" / "sub").symlink_to(elsewhere, target_is_directory=True)
    report = write_masks(tmp_path / "photos", tmp_path / "masks", teacher=Everyone(), device="cpu")
    assert list(elsewhere.iterdir()) == []
    assert report.written == 0 and len(report.failed) == 1 and "link" in report.failed[0][1]


def test_masks_clean_what_a_killed_run_left(tmp_path: Path) -> None:
    from toonkit.data.teacher import write_masks

    class Everyone(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.ones_like(x[:, :1]) * 10

    _photo(tmp_path / "photos" / "a.png")
    stale = tmp_path / "masks" / f".a.png.tmp-{_dead_pid()}-0123456789ab"
    stale.parent.mkdir()
    stale.write_bytes(b"half a mask")
    assert write_masks(tmp_path / "photos", tmp_path / "masks", teacher=Everyone(), device="cpu").written == 1
    assert not stale.exists()


# -- the run lock, and every other writer -------------------------------------------------------------------
def test_the_run_lock_is_never_written_through_a_link(tmp_path: Path) -> None:
    from toonkit.io_utils import UnsafeWriteError
    from toonkit.train.lock import RunLock

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    run = tmp_path / "run"
    run.mkdir()
    (run / ".toonkit.lock").symlink_to(victim)
    with pytest.raises(UnsafeWriteError, match="link"):
        RunLock(run).acquire()
    assert victim.read_text() == "keep me"


#: the only places that write a file without toonkit.io_utils, and why each is safe
RAW_WRITES = {
    ("translate/pretrained.py", "save_file("): "into a fresh temporary folder, renamed as a whole",
    ("translate/pretrained.py", ".write_text("): "into a fresh temporary folder, renamed as a whole",
    ("translate/export.py", "program.save("): "to the temporary name atomic_write hands it",
    ("translate/export.py", "torch.jit.save("): "to the temporary name atomic_write hands it",
    ("data/demo.py", ".save(path"): "into a fresh temporary folder, renamed as a whole",
    ("train/lock.py", "os.open("): "the lock file, opened with O_NOFOLLOW",
    ("bench/measure.py", ".write_text("): "/proc/self/clear_refs, the kernel's",
    ("bench/data.py", "shutil.copy2("): "after unlinking the target, where symlinks are not allowed",
}
WRITE_CALLS = (".write_text(", ".write_bytes(", "save_file(", "torch.save(", "torch.jit.save(", "program.save(",
               ".savefig(", ".save(path", "os.open(", "shutil.copy2(", "shutil.copyfile(", "shutil.move(")


def test_every_writer_goes_through_io_utils() -> None:
    """Links, FIFOs and half-written files are handled in one place: a new raw write must say why it is safe."""
    import re

    package = Path(__file__).resolve().parents[2] / "toonkit"
    found = set()
    for path in package.rglob("*.py"):
        rel = path.relative_to(package).as_posix()
        if rel == "io_utils.py":
            continue
        for line in path.read_text().splitlines():
            code = line.split("#")[0]
            if ">>>" in line or "atomic_write" in code:
                continue
            found |= {(rel, call) for call in WRITE_CALLS if call in code and not re.search(r"open\(.*['\"]r", code)}
    assert found <= set(RAW_WRITES), f"raw writes outside toonkit.io_utils: {sorted(found - set(RAW_WRITES))}"
