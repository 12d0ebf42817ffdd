"""Where the compiled core cannot be built, ``pip install`` still succeeds
and sseq runs in pure Python, writing the same bytes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig

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

    # -S: without the site hooks, so that the editable install of this
    # checkout does not answer for "sseq"; the dependencies come from the
    # same site-packages, named on the path.
    site = sysconfig.get_paths()["purelib"]
    run_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), site])}
    run_env.pop("SSEQ_PURE_PYTHON", None)
    # (Run from elsewhere than the checkout, whose sseq/ would come first.)
    version = subprocess.run([sys.executable, "-S", "-m", "sseq", "--version"], env=run_env, capture_output=True, text=True,
                             cwd=tmp_path)
    assert "pure Python" in version.stdout
    fixture = max(REAL_FILES, key=lambda path: path.stat().st_size)
    fallback = subprocess.run([sys.executable, "-S", "-m", "sseq", "parse", str(fixture)], env=run_env, capture_output=True,
                              cwd=tmp_path)
    built = subprocess.run([sys.executable, "-m", "sseq", "parse", str(fixture)], capture_output=True)
    assert fallback.returncode == built.returncode == 0
    assert fallback.stdout == built.stdout and fallback.stdout.count(b"\n") > 10
