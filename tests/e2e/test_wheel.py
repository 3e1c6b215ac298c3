"""The wheel carries the default configs, so `clothret` works outside a checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from clothret import config

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)]
    subprocess.run(pip, check=True)
    (built,) = out.glob("clothret-*.whl")
    return built


def test_wheel_contains_every_config_file_and_the_script(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"clothret/configs/{p.relative_to(config.config_root()).as_posix()}"
        for p in config.config_root().rglob("*.yaml")
    }
    assert expected and expected <= names, sorted(expected - names)[:5]
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "clothret = clothret.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_composes_experiments_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "-t", str(target)]
    subprocess.run([*install, str(wheel)], check=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = "import clothret.config as c; print(c.config_root())"
    root = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert Path(root.stdout.strip()) == target / "clothret" / "configs", root.stderr
    printed = subprocess.run(
        [sys.executable, "-m", "clothret.cli", "fit", "experiment=smoke", "--print-config"],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    assert "experiment: smoke" in printed.stdout
