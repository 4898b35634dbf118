"""The fenced code blocks of the docs, for the tests that check their commands.

    for block in fenced_blocks(ROOT / "docs" / "train.md"):
        block.info, block.line, block.lines, block.runnable

A fence is a line starting with ``` (after indentation); its info string is the rest of that
line. A block is runnable when its info string holds the word `runnable` (```bash runnable):
tests/integration/test_docs_run.py runs it as written, tests/unit/test_docs.py load-checks it
like every other job command. Renderers show the first word as the language and nothing of the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "benchmarks" / "README.md"]
RUNNABLE = "runnable"


@dataclass
class Block:
    path: Path
    line: int            # the number of the block's first line (the one after the fence)
    info: str            # the fence's info string: "bash", "bash runnable", ""
    lines: list[str]     # as written, indentation and all

    @property
    def runnable(self) -> bool:
        return RUNNABLE in self.info.split()

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def fenced_blocks(path: Path) -> list[Block]:
    blocks: list[Block] = []
    current: Block | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            if current is None:
                current = Block(path, number + 1, line.lstrip()[3:].strip(), [])
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.lines.append(line)
    if current is not None:   # an unclosed fence runs to the end of the file, as renderers show it
        blocks.append(current)
    return blocks
