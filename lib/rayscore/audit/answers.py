"""What a labelled file says, whatever its format: one Answer per (row, person), and what was skipped.

labelstudio.py and spreadsheet.py read their formats into a Parsed; importing.py validates it
against the batch that was exported. `where` names the file and the row or task, so every
problem a person reads says where to look.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Answer:
    record_id: str
    label: str
    """As written (stripped); importing.py checks it is 正确 or 错误."""
    who: str
    when: str
    note: str
    where: str
    """e.g. 'tasks.csv row 5' or 'export.json task 3 annotation 1'."""


@dataclass
class Parsed:
    answers: list[Answer] = field(default_factory=list)
    cancelled: int = 0
    """Label Studio annotations marked cancelled (skipped): ignored, counted."""
    present: list[tuple[str, str]] = field(default_factory=list)
    """(record id, where) of every row or task in the file, answered or not."""
    problems: list[str] = field(default_factory=list)
    """What could not be read at all (a row without an id, a task that is not an object)."""
