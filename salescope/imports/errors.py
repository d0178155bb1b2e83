"""Errors of the import reading layer.

``ImportFileError`` is a Django ``ValidationError`` (so views, the API and the CLI report it
like every other validation problem) whose message is already translated and complete: it
names the file, and where it matters the line or row and the column. ``code`` says what went
wrong (one of the ``CODE_*`` constants) so callers and tests can branch without parsing text.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

__all__ = [
    "CODE_BINARY",
    "CODE_BLANK_HEADER",
    "CODE_CELL_TOO_LARGE",
    "CODE_DUPLICATE_HEADER",
    "CODE_EMPTY",
    "CODE_INVALID_FILE",
    "CODE_MISSING_COLUMN",
    "CODE_TOO_LARGE",
    "CODE_TOO_MANY_COLUMNS",
    "CODE_TOO_MANY_FILES",
    "CODE_TOO_MANY_VALUES",
    "CODE_UNKNOWN_SHEET",
    "CODE_UNSUPPORTED",
    "ImportFileError",
    "missing_columns",
]

CODE_EMPTY = "empty"
CODE_BINARY = "binary"
CODE_UNSUPPORTED = "unsupported"
CODE_INVALID_FILE = "invalid_file"
CODE_TOO_LARGE = "too_large"
CODE_TOO_MANY_FILES = "too_many_files"
CODE_CELL_TOO_LARGE = "cell_too_large"
CODE_TOO_MANY_COLUMNS = "too_many_columns"
CODE_TOO_MANY_VALUES = "too_many_values"
CODE_DUPLICATE_HEADER = "duplicate_header"
CODE_BLANK_HEADER = "blank_header"
CODE_UNKNOWN_SHEET = "unknown_sheet"
CODE_MISSING_COLUMN = "missing_column"


class ImportFileError(ValidationError):
    """A file (or one table in it) cannot be read at all. The message is user-facing."""

    def __init__(
        self,
        message: str,
        code: str = CODE_INVALID_FILE,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.file = file
        self.row = row
        self.column = column

    def __str__(self) -> str:
        return str(self.message)


def missing_columns(table: str, columns: Sequence[str]) -> ImportFileError:
    """The error for required columns (canonical field names) that no column maps to."""
    return ImportFileError(
        _("%(file)s: required column missing: %(columns)s.")
        % {"file": table, "columns": ", ".join(columns)},
        code=CODE_MISSING_COLUMN,
        file=table,
    )
