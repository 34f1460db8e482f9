"""What a run measured, as CSV files in its folder: for people, spreadsheets and `litproject compare`.

- `metrics.csv`: one row per epoch of `fit`: the epoch, the seconds of training so far, the mean
  training loss and every validation metric. The `LearningCurves` callback writes it from the
  history it keeps in checkpoints, so the file of a resumed run has every epoch, once.
- `test_metrics.csv`: one row per `test`: when, which checkpoint, and every test metric.
"""

import csv
from pathlib import Path

METRICS_FILE = "metrics.csv"
TEST_METRICS_FILE = "test_metrics.csv"


def write_rows(path: Path, rows: list[dict]) -> None:
    """All rows, with a column for every key any row has (in the order they first appear),
    written to a hidden file and renamed: a reader never sees half a file."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", newline="") as file:
        writer = csv.DictWriter(file, columns)
        writer.writeheader()
        writer.writerows(rows)
    partial.replace(path)


def read_rows(path: Path) -> list[dict[str, float | str]]:
    """The rows of a metrics file, numbers as floats; none if there is no file."""
    if not path.is_file():
        return []
    with path.open(newline="") as file:
        return [
            {key: number(value) for key, value in row.items() if value != ""} for row in csv.DictReader(file)
        ]


def append_row(path: Path, row: dict) -> None:
    write_rows(path, [*read_rows(path), row])


def number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text
