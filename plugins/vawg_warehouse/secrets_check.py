"""Placeholders are refused where they are used (issue 20).

``.env.example`` documents every secret with a ``change-me-...`` value; copied as it is, those
values would run a warehouse whose passwords and keys are published. ``vawg check-secrets`` (run
first by the compose airflow-init, and by ``vawg migrate`` and ``vawg metabase``) fails naming
every variable of its environment that still holds one, anywhere in its value (a password inside
a connection URL too). Values are never printed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"change-?me", re.IGNORECASE)


class PlaceholderSecret(RuntimeError):
    """A secret still holds the example's placeholder."""


def placeholders(environ: Mapping[str, str] | None = None) -> list[str]:
    """Names of the variables whose value still holds a ``change-me`` placeholder."""
    environ = os.environ if environ is None else environ
    return sorted(name for name, value in environ.items() if PLACEHOLDER.search(value or ""))


def refuse_placeholders(environ: Mapping[str, str] | None = None) -> None:
    found = placeholders(environ)
    if found:
        raise PlaceholderSecret(
            f"{', '.join(found)} still hold(s) the example's change-me value: set a random "
            "value of your own in .env (README, 'Pointing it at a real PostgreSQL and Airflow')"
        )
