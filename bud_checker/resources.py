"""Where the data directories are: `rules/`, `templates/` and `migrations/` stay at the top of the repository;
the wheel carries them inside the package, under `bud_checker/_data/` (pyproject.toml, hatchling
`force-include`). A path relative to the package finds them in both cases; nothing depends on the current
directory."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGED = PACKAGE_DIR / "_data"
SOURCE_ROOT = PACKAGE_DIR.parent  # the checkout, when the package runs from it (editable install, tests)


def data_dir(name: str) -> Path:
    """The directory `name` (rules, templates, migrations) of this installation."""
    packaged = PACKAGED / name
    return packaged if packaged.is_dir() else SOURCE_ROOT / name


def in_checkout() -> bool:
    return not PACKAGED.is_dir() and (SOURCE_ROOT / "pyproject.toml").is_file()


def instance_dir() -> Path:
    """Where the SQLite database and the generated signing key live: `BUD_INSTANCE_DIR`, else `instance/` of
    the checkout, else `instance/` of the current directory (an installed package is read-only)."""
    override = os.environ.get("BUD_INSTANCE_DIR")
    if override:
        return Path(override)
    return (SOURCE_ROOT if in_checkout() else Path.cwd()) / "instance"
