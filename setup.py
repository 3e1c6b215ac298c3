"""Package list for setuptools (metadata is in pyproject.toml).

``configs/`` at the repository root is installed as ``clothret/configs`` (one data package per
config group), which pyproject's automatic package discovery cannot express.
"""

from pathlib import Path

from setuptools import find_packages, setup

CONFIG_PACKAGES = ["clothret.configs"] + [
    f"clothret.configs.{folder.name}"
    for folder in sorted(Path("configs").iterdir())
    if folder.is_dir()
]

setup(
    packages=[*find_packages(include=["clothret", "clothret.*"]), *CONFIG_PACKAGES],
    package_dir={"clothret.configs": "configs"},
    package_data={name: ["*.yaml"] for name in CONFIG_PACKAGES},
)
