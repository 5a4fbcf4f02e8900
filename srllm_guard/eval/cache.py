"""Per-item results, appended to a JSONL file in the report folder as they are made, so a run can resume.

One line per finished item: ``{"task": ..., "system": ..., "key": ..., "result": {...}}``. The key of a
result is ``(task, system, item key)``: the task name carries the settings that change its result (e.g. the
guard's threshold), the system name carries the model and adapter hashes, the item key hashes the text. A
line cut short by a kill is ignored on reading (that item is simply done again).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["ResultCache"]


class ResultCache:
    """A dict of finished results backed by an append-only JSONL file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._results: dict[tuple[str, str, str], Any] = {}
        self.ignored_lines = 0
        """Lines that could not be read (a write cut short by a kill)."""
        if self.path.is_file():
            with self.path.open(encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    try:
                        record = json.loads(line)
                        self._results[(record["task"], record["system"], record["key"])] = record["result"]
                    except (ValueError, KeyError, TypeError):
                        self.ignored_lines += 1
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a", encoding="utf-8")
        if self.path.stat().st_size and not self._ends_with_newline():
            self._fh.write("\n")  # a cut-short last line must not swallow the next record

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"

    def __len__(self) -> int:
        return len(self._results)

    def get(self, task: str, system: str, key: str) -> Any | None:
        return self._results.get((task, system, key))

    def put(self, task: str, system: str, key: str, result: Any) -> None:
        """Record a finished item; it is on disk when this returns."""
        self._results[(task, system, key)] = result
        line = json.dumps({"task": task, "system": system, "key": key, "result": result}, ensure_ascii=False)
        self._fh.write(line + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
