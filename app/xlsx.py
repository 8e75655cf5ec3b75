"""Excel workbooks for batch files: the first worksheet of an .xlsx as text rows, and answer rows
written as a sheet a person can read (bold frozen header, wrapped text, sensible widths).

Values are written as they are: a text starting with "=" stays text (never a formula),
characters XML cannot hold are dropped, and a cell longer than Excel's 32,767 characters is
cut, with a note saying so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from bpo_kb import ConfigError

__all__ = ["MAX_CELL", "read_xlsx", "write_xlsx"]

MAX_CELL = 32_767
"""Excel's limit on the characters of one cell."""
WRAPPED = frozenset({"question", "answer_text", "sources", "error"})
"""Columns a person reads in Excel: their text wraps inside the cell."""
_WIDTHS = {"id": 10, "question": 40, "answer": 20, "citations": 20, "status": 12,
           "answer_text": 70, "sources": 50, "error": 30}
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def read_xlsx(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of the first worksheet, every cell as text (the first non-empty
    row is the header; empty rows are skipped; whole numbers read as "12", not "12.0")."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # zipfile.BadZipFile, InvalidFileException, KeyError...: not an xlsx
        raise ConfigError(f"Cannot read {path.name} as an Excel workbook "
                          f"({type(e).__name__}: {e}); save it as .xlsx or export it as .csv"
                          ) from e
    try:
        if not wb.worksheets:
            return [], []
        rows = ([_text(v) for v in cells]
                for cells in wb.worksheets[0].iter_rows(values_only=True))
        body = [r for r in rows if any(c.strip() for c in r)]
    finally:
        wb.close()
    if not body:
        return [], []
    return [c.strip() for c in body[0]], body[1:]


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    return str(v)


def write_xlsx(path: Path, columns: Sequence[str], table: Sequence[Sequence[Any]]) -> None:
    """One worksheet "answers": `columns` as a bold frozen header, then one row per `table` row."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "answers"
    ws.append([_value(c) for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    wrapped = {i for i, name in enumerate(columns, 1) if name in WRAPPED}
    for values in table:
        ws.append([_value(v) for v in values])
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":  # a text starting with "=" is text, never a formula
                cell.data_type = "s"
            cell.alignment = wrap if cell.column in wrapped else top
    for i, name in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = _WIDTHS.get(name, 14)
    ws.freeze_panes = "B2"
    wb.save(path)


def _value(v: Any) -> Any:
    if isinstance(v, bool | int | float):
        return v
    s = str(v).encode("utf-8", "replace").decode("utf-8")  # a lone surrogate -> "?"
    s = _ILLEGAL_XML.sub("", s)
    if len(s) > MAX_CELL:
        note = " …[cut at Excel's cell limit; the .jsonl or .csv output has it all]"
        s = s[:MAX_CELL - len(note)] + note
    return s
