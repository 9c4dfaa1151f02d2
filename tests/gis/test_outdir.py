"""gis.outdir: an output folder never replaces inputs or foreign files, appears whole or not at all, one writer."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gis.errors import OutputError
from gis.outdir import (
    MARKER,
    OutputBusyError,
    OutputExistsError,
    OutputRefusedError,
    check_output_dir,
    record_written,
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
        from gis.outdir import record_written, staged_output
        with staged_output({str(out)!r}, overwrite=False) as tmp:
            (tmp / "half.txt").write_text("x")
            record_written(tmp, [tmp / "half.txt"])  # a stage finished: its files are known to be coverplan's
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


def test_overwrite_refuses_files_changed_since_coverplan_wrote_them(tmp_path: Path):
    out = tmp_path / "out"
    _write_run(out, text="first")
    listed = json.loads((out / MARKER).read_text(encoding="utf-8"))
    assert set(listed["stats"]) == {"summary.json", "sub/a.csv"}
    assert listed["stats"]["summary.json"]["size"] == 5
    # an edit of the same size (a ledger updated in place, a report annotated): refused, nothing removed
    (out / "summary.json").write_text("FIRST", encoding="utf-8")
    with pytest.raises(OutputRefusedError, match=r"1 file\(s\) changed since coverplan wrote them \(summary.json") as e:
        _write_run(out, overwrite=True, text="second")
    assert "[ledger] path" in str(e.value)
    assert (out / "summary.json").read_text(encoding="utf-8") == "FIRST"
    assert (out / "sub" / "a.csv").exists()
    with pytest.raises(OutputRefusedError, match="changed since"):
        remove_own(out)
    assert (out / "summary.json").exists()


def test_overwrite_replaces_touched_but_unchanged_files(tmp_path: Path):
    out = tmp_path / "out"
    _write_run(out, text="first")
    os.utime(out / "summary.json", ns=(1, 1))  # a copy that kept the bytes but not the time: same SHA-256
    _write_run(out, overwrite=True, text="second")
    assert (out / "summary.json").read_text(encoding="utf-8") == "second"


def test_a_listed_file_that_became_a_folder_or_a_link_is_refused(tmp_path: Path):
    out = tmp_path / "out"
    _write_run(out)
    (out / "summary.json").unlink()
    (out / "summary.json").mkdir()
    with pytest.raises(OutputRefusedError, match=r"summary.json \(is now a folder\)"):
        _write_run(out, overwrite=True)
    (out / "summary.json").rmdir()
    (out / "summary.json").symlink_to(tmp_path)
    with pytest.raises(OutputRefusedError, match=r"summary.json \(is now a symbolic link\)"):
        _write_run(out, overwrite=True)


def test_an_old_marker_without_records_counts_files_modified_after_it(tmp_path: Path):
    out = tmp_path / "out"
    _write_run(out, text="first")
    marker = out / MARKER
    marker.write_text(json.dumps({"written_by": "coverplan", "files": ["summary.json", "sub/a.csv"]}), "utf-8")
    t = marker.stat().st_mtime_ns
    for f in ("summary.json", "sub/a.csv"):
        os.utime(out / f, ns=(t - 10**9, t - 10**9))
    _write_run(out, overwrite=True, text="second")  # untouched since the marker: replaced
    marker.write_text(json.dumps({"written_by": "coverplan", "files": ["summary.json", "sub/a.csv"]}), "utf-8")
    t = marker.stat().st_mtime_ns
    os.utime(out / "sub" / "a.csv", ns=(t - 10**9, t - 10**9))
    os.utime(out / "summary.json", ns=(t + 10**9, t + 10**9))
    with pytest.raises(OutputRefusedError, match=r"summary.json \(was modified after coverplan wrote it\)"):
        _write_run(out, overwrite=True, text="third")
    assert (out / "summary.json").read_text(encoding="utf-8") == "second"


def test_a_stale_temporary_folder_keeps_what_its_marker_does_not_list(tmp_path: Path, caplog):
    out = tmp_path / "out"
    stale = tmp_path / ".out.partial-abc"
    stale.mkdir()
    (stale / MARKER).write_text(json.dumps({"written_by": "coverplan", "files": []}), encoding="utf-8")
    (stale / "ours.csv").write_text("x", encoding="utf-8")
    record_written(stale, [stale / "ours.csv"])
    (stale / "mine.docx").write_text("keep me", encoding="utf-8")
    with caplog.at_level("WARNING", logger="gis.outdir"):
        _write_run(out)
    assert (stale / "mine.docx").read_text(encoding="utf-8") == "keep me"
    assert not (stale / "ours.csv").exists()
    assert f"left {stale}" in caplog.text
    assert "mine.docx" in caplog.text


def test_the_output_folder_gets_the_mode_of_a_plain_folder(tmp_path: Path):
    old = os.umask(0o027)
    try:
        _write_run(tmp_path / "out")
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o750


@pytest.mark.parametrize(
    ("where", "match"),
    [
        ("file_in_path", r"is a file, not a folder; expected a path of folders"),
        ("long_name", r"is 300 bytes long; expected at most"),
        ("proc", r"cannot write the output folder `/proc/coverplan-x"),
    ],
)
def test_an_out_that_can_never_be_a_folder_is_an_output_error(tmp_path: Path, where: str, match: str):
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "file.csv").write_text("x", encoding="utf-8")
    out = {
        "file_in_path": tmp_path / "base" / "file.csv" / "sub",
        "long_name": tmp_path / ("x" * 300),
        "proc": Path("/proc/coverplan-x"),
    }[where]
    with pytest.raises(OutputRefusedError, match=match):
        _write_run(out)
    assert sorted(p.name for p in (tmp_path / "base").iterdir()) == ["file.csv"]


def test_disk_full_while_writing_is_an_output_error_and_nothing_is_written(tmp_path: Path):
    out = tmp_path / "out"
    _write_run(out, text="earlier")

    def write_until_full() -> None:
        with staged_output(out, overwrite=True) as tmp:
            (tmp / "layers.gpkg").write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp / "coverage.gpkg"))

    with pytest.raises(OutputError, match=r"no space left on device writing .*coverage.gpkg; nothing written"):
        write_until_full()
    assert (out / "summary.json").read_text(encoding="utf-8") == "earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
