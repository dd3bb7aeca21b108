"""The deployment's scripts (deploy/jupyterhub), loaded as modules for the hub tests: the folder is
not a package, and each script is defined once, there."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "jupyterhub"


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


shared_env = load("hub_shared_env", DEPLOY / "shared_env.py")
# classroom.py imports shared_env by its plain name (it runs as a script next to it)
import sys  # noqa: E402

sys.modules.setdefault("shared_env", shared_env)
classroom = load("hub_classroom", DEPLOY / "classroom.py")
