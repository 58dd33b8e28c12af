"""docs/quickstart.md cannot rot: every block in it runs here, in order, in one fresh directory.

```console blocks: each `$ command` line runs in bash and must exit 0.
```c file=NAME blocks: written to NAME (the console blocks compile them).
```python blocks: executed in one shared namespace, like a notebook.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "quickstart.md"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```\s*$", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    return [(info.strip(), body) for info, body in FENCE.findall(DOC.read_text())]


def test_quickstart_has_shell_and_python_blocks():
    kinds = [info.split()[0] for info, _ in blocks() if info]
    assert kinds.count("console") >= 6 and kinds.count("python") >= 3
    commands = " ".join(body for info, body in blocks() if info == "console")
    for step in ("pnetc train", "pnetc compile", "pnetc verify", "pnetc build", "pnetc run", "pnetc bench"):
        assert step in commands, step


@pytest.mark.slow
@pytest.mark.qemu
def test_quickstart_runs(tmp_path, capsys):
    from pnetc.targets.boards import get_board

    missing = get_board("mps2-an386").missing_tools()
    if missing or shutil.which("cc") is None:
        pytest.skip(f"needs cc and the mps2-an386 tools ({', '.join(missing)} missing)")
    pytest.importorskip("torch")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    namespace: dict = {"__name__": "quickstart"}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for info, body in blocks():
            words = info.split()
            if not words:
                continue
            if words[0] == "console":
                for line in body.splitlines():
                    if not line.startswith("$ "):
                        continue  # sample output
                    proc = subprocess.run(["bash", "-c", line[2:]], cwd=tmp_path, env=env, capture_output=True,
                                          text=True, timeout=300)
                    assert proc.returncode == 0, f"{line}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
                    if line.startswith("$ ./classify"):
                        assert re.fullmatch(r"class [0-9]\n", proc.stdout), proc.stdout
                    if "--json" in line:
                        import json

                        assert json.loads(proc.stdout.strip().splitlines()[-1])["mismatches"] == 0
            elif words[0] == "c":
                name = dict(w.split("=", 1) for w in words[1:] if "=" in w)["file"]
                (tmp_path / name).write_text(body)
            elif words[0] == "python":
                exec(compile(body, f"{DOC.name}:python", "exec"), namespace)
    finally:
        os.chdir(cwd)
    printed = capsys.readouterr().out
    assert "error: unknown board 'no-such-board'" in printed
    assert namespace["ran"].mismatches == 0 and namespace["ran"].samples > 300
    assert namespace["benched"].instructions_per_inference > 1000
