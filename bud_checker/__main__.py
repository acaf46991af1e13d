"""python -m bud_checker: the same as the bud-checker command."""

from .cli import main

raise SystemExit(main())
