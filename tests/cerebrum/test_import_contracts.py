"""The dependency order of docs/architecture.md holds (issue 16 item 1): `make test` fails on a violation.

The contracts are in pyproject.toml ([tool.importlinter]); .ci/run runs `lint-imports` too. They see every
import, function-level ones included, so an import that goes uphill or closes a cycle fails here.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from celery import Task
from django.conf import settings

from cerebrum.bindings import Binding

ROOT = Path(__file__).resolve().parents[2]


def test_apps_import_downhill_and_no_app_has_an_import_cycle():
    lint_imports = Path(sys.executable).parent / "lint-imports"

    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout


def test_every_app_of_the_project_stands_in_a_layer():
    # An app left out of the contract would import anything unchecked.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(contract for contract in config["contracts"] if contract["type"] == "layers")["layers"]
    layered = {name.strip() for layer in layers for name in layer.split("|")}
    ours = {app for app in settings.INSTALLED_APPS if (ROOT / app / "__init__.py").exists()}

    assert ours == layered == set(config["root_packages"])


def test_every_late_binding_is_bound_to_what_its_name_says():
    # Given Django set up (every AppConfig.ready has run), when the bindings are read,
    # then each stands for the task or function it is named after: a publish can never go nowhere.
    assert len(Binding.instances) >= 7
    for binding in Binding.instances:
        target = binding.target  # raises when unbound
        if isinstance(target, Task):
            assert target.name == binding.name
        else:
            assert f"{target.__module__}.{target.__qualname__}" == binding.name
