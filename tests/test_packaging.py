"""The wheel carries templates/, runtime/ and boards/, and an installed pnetc finds them."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (whl,) = out.glob("pnetc-*.whl")
    return whl


def test_wheel_contains_data_folders(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("templates", "runtime", "boards"):
        source_files = [p for p in (ROOT / folder).rglob("*") if p.is_file()]
        assert source_files, f"{folder}/ is empty in the source tree"
        for path in source_files:
            rel = path.relative_to(ROOT).as_posix()
            assert f"pnetc/_data/{rel}" in names, f"{rel} missing from the wheel"


def test_torch_is_only_a_train_extra(wheel):
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith("METADATA"))
        requires = [line for line in zf.read(meta).decode().splitlines() if line.startswith("Requires-Dist:")]
    torch_lines = [line for line in requires if "torch" in line]
    assert torch_lines and all("extra == 'train'" in line or 'extra == "train"' in line for line in torch_lines)


def test_installed_wheel_finds_its_data(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True)
    code = (
        "import pnetc, pnetc.resources as r; "
        "print(pnetc.__version__); "
        "[print(r.data_dir(n)) for n in ('templates', 'runtime', 'boards')]"
    )
    out = subprocess.run([str(py), "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path).stdout
    lines = out.split()
    assert lines[0] == __import__("pnetc").__version__
    for line in lines[1:]:
        assert "site-packages" in line and Path(line).is_dir()
    assert (env_dir / "bin" / "pnetc").exists()
