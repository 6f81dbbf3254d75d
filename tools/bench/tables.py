"""Plain-text tables for the benchmark output."""

from __future__ import annotations

from typing import Any


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [headers, *[[_fmt(cell) for cell in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


def _fmt(value: Any) -> str:
    return f"{value:,.2f}" if isinstance(value, float) else str(value)
