"""`pnetc compile -o DIR`: transactional, and nothing of the user's is replaced or deleted."""

from __future__ import annotations

import json

from pnetc.outdir import MANIFEST
from tests.outputs.conftest import (USER_FILES, assert_one_line_error, no_temporaries, run_cli, snapshot,
                                    user_files_intact, user_folder)


def compile_cli(model, out, *extra):
    return run_cli(["compile", str(model), "-o", str(out), *extra], 60)


def test_folder_of_user_files_refused_without_force(tmp_path, small_models):
    out = user_folder(tmp_path / "project")
    before = snapshot(out)
    line = assert_one_line_error(compile_cli(small_models["small"], out), str(out), "main.c", "--force")
    assert "is not a pnetc output" in line
    assert snapshot(out) == before
    no_temporaries(out)


def test_force_writes_beside_user_files_and_recompiles_keep_them(tmp_path, small_models):
    out = user_folder(tmp_path / "project")
    r = compile_cli(small_models["small"], out, "--force")
    assert r.code == 0, r.stderr
    user_files_intact(out)
    manifest = json.loads((out / MANIFEST).read_text())["files"]
    assert "model.c" in manifest and not set(USER_FILES) & set(manifest)  # only pnetc's own files listed
    assert {e["command"] for e in manifest.values()} == {"compile"}

    # a recompile with another name replaces pnetc's files (old names gone) and keeps the user's
    r = compile_cli(small_models["other"], out, "--force", "--name", "digits", "--precision", "float32")
    assert r.code == 0, r.stderr
    user_files_intact(out)
    assert not (out / "model.c").exists() and not (out / "model_weights.c").exists()
    assert "precision=float32" in (out / "digits.c").read_text()
    assert sorted(json.loads((out / MANIFEST).read_text())["files"]) == sorted(
        p.relative_to(out).as_posix() for p in out.rglob("*")
        if p.is_file() and p.name != MANIFEST and p.relative_to(out).as_posix() not in USER_FILES)
    no_temporaries(out)


def test_same_named_user_file_never_overwritten_even_with_force(tmp_path, small_models):
    out = user_folder(tmp_path / "project")
    (out / "CMakeLists.txt").write_text("project(mine)\n")
    before = snapshot(out)
    assert_one_line_error(compile_cli(small_models["small"], out, "--force"), "CMakeLists.txt", "will not overwrite")
    assert snapshot(out) == before


def test_plain_recompile_replaces_only_pnetc_files(tmp_path, small_models):
    out = tmp_path / "lib"
    assert compile_cli(small_models["small"], out).code == 0
    first = snapshot(out)
    assert compile_cli(small_models["small"], out).code == 0
    assert snapshot(out) == first  # byte-identical output, same manifest
    # a file added later makes the folder the user's too: refused, then --force keeps it
    (out / "main.c").write_bytes(USER_FILES["main.c"])
    before = snapshot(out)
    assert_one_line_error(compile_cli(small_models["other"], out), "main.c", "--force")
    assert snapshot(out) == before
    assert compile_cli(small_models["other"], out, "--force").code == 0
    assert (out / "main.c").read_bytes() == USER_FILES["main.c"]


def test_edited_arduino_sketch_is_yours(tmp_path, small_models):
    """The docs tell users to edit the example sketch: an edited generated file becomes the user's.
    pnetc refuses to replace it (with or without --force) and keeps it when the new output no longer
    has that file."""
    out = tmp_path / "digits"
    assert compile_cli(small_models["small"], out, "--package", "arduino", "--name", "digits").code == 0
    sketch = out / "examples" / "DigitsClassify" / "DigitsClassify.ino"
    edited = sketch.read_text().replace("Serial.begin", "/* my change */ Serial.begin")
    sketch.write_text(edited)
    before = snapshot(out)
    assert_one_line_error(compile_cli(small_models["other"], out, "--package", "arduino", "--name", "digits"),
                          "DigitsClassify.ino", "edited since pnetc wrote it", "--force")
    assert snapshot(out) == before
    assert_one_line_error(compile_cli(small_models["other"], out, "--package", "arduino", "--name", "digits",
                                      "--force"), "DigitsClassify.ino", "will not overwrite")
    assert snapshot(out) == before
    # another name: the sketch is not in the new output, so it stays (and is reported); the old files go
    r = compile_cli(small_models["other"], out, "--package", "arduino", "--name", "wave", "--force")
    assert r.code == 0, r.stderr
    assert sketch.read_text() == edited
    assert "kept" in r.stderr and "DigitsClassify.ino" in r.stderr
    assert not (out / "src" / "digits.c").exists() and (out / "src" / "wave.c").is_file()
    assert "examples/DigitsClassify/DigitsClassify.ino" not in json.loads((out / MANIFEST).read_text())["files"]


def test_refused_board_check_leaves_previous_output_identical(tmp_path, small_models):
    """compile --board microbit refused for size (exit 2) must not replace the good output."""
    out = tmp_path / "lib"
    assert compile_cli(small_models["small"], out, "--board", "microbit").code == 0
    before = snapshot(out)
    assert_one_line_error(compile_cli(small_models["too_big"], out, "--board", "microbit"), "microbit", "flash")
    assert snapshot(out) == before
    no_temporaries(out)
    # and into a new folder: nothing is created
    assert_one_line_error(compile_cli(small_models["too_big"], tmp_path / "new", "--board", "microbit"))
    assert not (tmp_path / "new").exists()


def test_symlink_in_folder_is_never_written_through(tmp_path, small_models):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "lib"
    out.mkdir()
    (out / "runtime").symlink_to(elsewhere, target_is_directory=True)
    assert_one_line_error(compile_cli(small_models["small"], out, "--force"), "runtime", "will not overwrite")
    assert list(elsewhere.iterdir()) == []


def test_another_commands_output_is_not_replaced(tmp_path, small_models):
    """A build's folder is not compile's to replace: pnetc's files from another command count as yours."""
    out = tmp_path / "out"
    assert run_cli(["verify", str(small_models["small"]), "--data", str(small_models["data"]), "--limit", "4",
                    "--keep", str(out)], 120).code == 0
    before = snapshot(out)
    line = assert_one_line_error(compile_cli(small_models["small"], out), "written by pnetc verify", "--force")
    assert "this command's output" in line
    assert snapshot(out) == before


def test_output_of_an_older_pnetc_is_refused_with_a_reason(tmp_path, small_models):
    """Without a manifest pnetc cannot tell its files from the user's: it says so instead of guessing."""
    out = tmp_path / "lib"
    assert compile_cli(small_models["small"], out).code == 0
    (out / MANIFEST).unlink()
    before = snapshot(out)
    assert_one_line_error(compile_cli(small_models["other"], out), "an older pnetc wrote it", "--force")
    assert snapshot(out) == before
