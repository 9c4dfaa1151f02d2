"""gis.outdir: an output folder never replaces inputs or foreign files, appears whole or not at all, one writer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gis.outdir import (
    MARKER,
    OutputBusyError,
    OutputExistsError,
    OutputRefusedError,
    check_output_dir,
    remove_own,
    staged_output,
)


def _write_run(out: Path, *, overwrite: bool = False, protected=(), text: str = "new") -> None:
    with staged_output(out, overwrite=overwrite, protected=protected) as tmp:
        (tmp / "summary.json").write_text(text, encoding="utf-8")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "a.csv").write_text("x", encoding="utf-8")


def test_a_run_appears_whole_with_its_marker(tmp_path: Path):
    out = tmp_path / "out"
    _write_run(out)
    assert (out / "summary.json").read_text(encoding="utf-8") == "new"
    listed = json.loads((out / MARKER).read_text(encoding="utf-8"))["files"]
    assert sorted(listed) == ["sub/a.csv", "summary.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder, no lock file left


def test_overwrite_replaces_only_a_folder_coverplan_wrote(tmp_path: Path):
    out = tmp_path / "out"
    _write_run(out, text="first")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        _write_run(out)
    _write_run(out, overwrite=True, text="second")
    assert (out / "summary.json").read_text(encoding="utf-8") == "second"
    # a file the planner put there is never deleted: the folder is refused and stays as it was
    (out / "my_notes.docx").write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputRefusedError, match=r"1 file\(s\) coverplan did not write there \(my_notes.docx\)"):
        _write_run(out, overwrite=True)
    assert (out / "my_notes.docx").read_text(encoding="utf-8") == "keep me"
    assert (out / "summary.json").read_text(encoding="utf-8") == "second"


def test_a_folder_without_the_marker_is_never_replaced(tmp_path: Path):
    out = tmp_path / "photos"
    out.mkdir()
    (out / "img.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(OutputRefusedError, match="did not write"):
        _write_run(out, overwrite=True)
    assert (out / "img.jpg").read_bytes() == b"\xff\xd8"


def test_an_empty_existing_folder_is_used(tmp_path: Path):
    out = tmp_path / "empty"
    out.mkdir()
    _write_run(out)
    assert (out / "summary.json").exists()


def test_an_error_or_ctrl_c_leaves_the_earlier_output(tmp_path: Path):
    out = tmp_path / "out"
    _write_run(out, text="good")

    def fail_half_way(exc: BaseException) -> None:
        with staged_output(out, overwrite=True) as tmp:
            (tmp / "summary.json").write_text("half", encoding="utf-8")
            raise exc

    for exc in (RuntimeError("report stage crashed"), KeyboardInterrupt()):
        with pytest.raises(type(exc)):
            fail_half_way(exc)
        assert (out / "summary.json").read_text(encoding="utf-8") == "good"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    new = tmp_path / "new"

    def fail_at_once() -> None:
        with staged_output(new, overwrite=False):
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_at_once()
    assert not new.exists()


@pytest.mark.parametrize("which", ["cwd", "parent_of_cwd", "home", "root", "empty", "dot"])
def test_out_may_not_be_or_contain_the_current_home_or_root_folder(tmp_path: Path, monkeypatch, which: str):
    work = tmp_path / "work"
    work.mkdir()
    (work / "villages.csv").write_text("precious", encoding="utf-8")
    monkeypatch.chdir(work)
    out = {
        "cwd": str(work),
        "parent_of_cwd": str(tmp_path),
        "home": str(Path.home()),
        "root": "/",
        "empty": "",
        "dot": ".",
    }[which]
    with pytest.raises(OutputRefusedError):
        check_output_dir(out, overwrite=True)
    assert (work / "villages.csv").read_text(encoding="utf-8") == "precious"


def test_out_may_not_be_or_contain_an_input(tmp_path: Path):
    project = tmp_path / "proj"
    project.mkdir()
    layer = project / "layers.gpkg"
    layer.write_bytes(b"x")
    elsewhere = tmp_path / "data" / "dem.tif"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"y")
    protected = [project / "project.toml", project, layer, elsewhere]
    for out in (project, tmp_path, tmp_path / "data", layer):
        with pytest.raises(OutputRefusedError, match="must not replace"):
            check_output_dir(out, overwrite=True, protected=protected)
    # a folder inside the project folder is fine
    assert check_output_dir(project / "outputs", overwrite=True, protected=protected) == project / "outputs"


def test_a_symlinked_out_is_refused_and_links_inside_are_removed_not_followed(tmp_path: Path):
    target = tmp_path / "inputs"
    target.mkdir()
    (target / "villages.gpkg").write_bytes(b"data")
    link = tmp_path / "out_link"
    link.symlink_to(target, target_is_directory=True)
    with pytest.raises(OutputRefusedError, match="symbolic link"):
        check_output_dir(link, overwrite=True)
    # a coverplan folder holding a link (to a folder with inputs): removing it removes the link only
    out = tmp_path / "out"
    with staged_output(out, overwrite=False) as tmp:
        (tmp / "inputs").symlink_to(target, target_is_directory=True)
        (tmp / "f.txt").write_text("x", encoding="utf-8")
    remove_own(out)
    assert not out.exists()
    assert (target / "villages.gpkg").read_bytes() == b"data"


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path: Path):
    out = tmp_path / "out"
    with staged_output(out, overwrite=False) as tmp:
        (tmp / "a").write_text("1", encoding="utf-8")
        with pytest.raises(OutputBusyError, match="another coverplan process"):
            _write_run(out)
    assert (out / "a").read_text(encoding="utf-8") == "1"


def test_the_lock_holds_across_processes_and_a_killed_run_leaves_nothing_behind(tmp_path: Path):
    out = tmp_path / "out"
    script = textwrap.dedent(f"""
        import os, sys, time
        from gis.outdir import staged_output
        with staged_output({str(out)!r}, overwrite=False) as tmp:
            (tmp / "half.txt").write_text("x")
            print("ready", flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2]
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        with pytest.raises(OutputBusyError):
            _write_run(out)
    finally:
        proc.kill()
        proc.wait()
    assert not out.exists()  # killed mid-run: nothing complete-looking
    stale = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.partial-")]
    assert len(stale) == 1
    _write_run(out)  # the next run takes the lock, clears the killed run's temporary folder and writes
    assert (out / "summary.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.partial-")]
    assert os.listdir(tmp_path) == ["out"]
