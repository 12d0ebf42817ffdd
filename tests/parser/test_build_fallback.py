"""Where the compiled core cannot be built, ``pip install`` still succeeds
and sseq runs in pure Python, writing the same bytes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from helpers.paths import REAL_FILES, ROOT


def test_an_install_without_a_c_compiler_runs_in_pure_python_with_the_same_output(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "sseq", source / "sseq", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    shutil.copytree(ROOT / "man", source / "man")
    target = tmp_path / "site"
    # A compiler that always fails: what a machine without gcc gives setuptools.
    env = {**os.environ, "CC": "false", "LDSHARED": "false"}
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--target", str(target), str(source)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not list((target / "sseq").glob("_speedups*.so"))

    run_env = {**os.environ, "PYTHONPATH": str(target)}
    run_env.pop("SSEQ_PURE_PYTHON", None)
    # (Run from elsewhere than the checkout, whose sseq/ would come first.)
    version = subprocess.run([sys.executable, "-m", "sseq", "--version"], env=run_env, capture_output=True, text=True,
                             cwd=tmp_path)
    assert "pure Python" in version.stdout
    fixture = next(path for path in REAL_FILES if "responses" in path.name)
    fallback = subprocess.run([sys.executable, "-m", "sseq", "parse", str(fixture)], env=run_env, capture_output=True,
                              cwd=tmp_path)
    built = subprocess.run([sys.executable, "-m", "sseq", "parse", str(fixture)], capture_output=True)
    assert fallback.returncode == built.returncode == 0
    assert fallback.stdout == built.stdout and fallback.stdout.count(b"\n") > 10
