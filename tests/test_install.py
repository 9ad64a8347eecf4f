import shutil
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_pip_install_makes_the_layer_importable_outside_the_checkout(tmp_path):
    # Built from a copy: setuptools writes build/ and *.egg-info next to pyproject.toml.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "pointwise", source / "pointwise", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "site"
    # --target keeps the installed copy out of site-packages, where it would shadow the checkout for other tests.
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--quiet"]
    install = subprocess.run(
        [*pip, "--target", str(target), str(source)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert install.returncode == 0, install.stderr
    assert (target / "pointwise" / "layers.py").is_file()
    code = "import pointwise; from pointwise import PointwiseConv2D as L; print(pointwise.__file__, L.__name__)"
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr
    installed_from, name = run.stdout.split()
    assert installed_from.startswith(str(target)) and name == "PointwiseConv2D"


def test_pyproject_declares_the_runtime_dependencies_of_requirements_txt():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    required = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert project["project"]["dependencies"] == required
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == ["pointwise*"]
