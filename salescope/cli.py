"""The ``salescope`` console command: Django management under the hood.

``salescope demo``, ``salescope serve``, ``salescope seed``, ``salescope backup`` ... are the
management commands of the Salescope apps; every Django command works too.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salescope.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["salescope", *argv])
    args[0] = "salescope"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
