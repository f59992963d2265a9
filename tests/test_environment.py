"""pyproject.toml and environment.yml must name the same packages with the same pins."""

import tomllib

import yaml

from snnlib.paths import ROOT


def pyproject_pins() -> dict:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return dict(d.split("==") for d in deps)


def environment_pins() -> dict:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return dict(d.split("==") for d in pip)


def test_every_dependency_is_pinned_exactly():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert all(d.count("==") == 1 for d in deps), deps


def test_pyproject_and_environment_agree():
    assert pyproject_pins() == environment_pins()


def test_python_version_agrees():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"].startswith(">=3.11")


def test_installed_versions_match_pins():
    from importlib.metadata import version
    for name, pin in pyproject_pins().items():
        assert version(name).split("+")[0] == pin, name
