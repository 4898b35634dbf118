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


# How the runnable blocks run (tests/integration/test_docs_run.py; conftest.py's shared model is
# docs/train.md's run): one working directory for all pages, holding links to the repository's
# configs/, jobs/ and cluster/ (what the commands read by relative paths), so a command runs
# exactly as written, from what looks like the repository's root, and what it writes (out/...)
# lands in that directory. Pages run in PAGE_ORDER, the pipeline's order, then any other page
# with a runnable block: a page may use what an earlier page wrote (score.md scores the model
# that train.md trains). A page's runnable blocks run in order in one `bash -e`.
PAGE_ORDER = ["docs/train.md", "docs/score.md", "docs/judge.md", "docs/evaluate.md", "docs/serve.md"]
LINKED = ["configs", "jobs", "cluster"]
PAGE_TIMEOUT_S = 900


def runnable_pages() -> list[tuple[Path, str]]:
    """(page, the shell text of its runnable blocks) in the order they run."""
    order = {name: i for i, name in enumerate(PAGE_ORDER)}
    pages = sorted((p for p in DOCS if p.exists()),
                   key=lambda p: order.get(str(p.relative_to(ROOT)), len(order)))
    found = []
    for page in pages:
        blocks = [b for b in fenced_blocks(page) if b.runnable]
        if blocks:
            found.append((page, "\n".join(line for b in blocks for line in b.lines)))
    return found


def link_repository(workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        if not (workdir / name).exists():
            (workdir / name).symlink_to(ROOT / name)


def run_page(page: Path, script: str, workdir: Path, env: dict) -> Path:
    """Runs a page's runnable blocks in workdir; returns its log (<workdir>/<page>.log). Each
    command is echoed after the seconds the page has run so far, so the log says which one failed
    and what each took (bash run as root ignores a PS4 from the environment)."""
    import subprocess

    log = workdir / f"{page.stem}.log"
    shell = f"PS4='+ [${{SECONDS}}s] '; set -x\n{script}"
    with open(log, "wb") as out:
        done = subprocess.run(["bash", "-e", "-c", shell], cwd=workdir, env=env, stdout=out,
                              stderr=subprocess.STDOUT, timeout=PAGE_TIMEOUT_S)
    assert done.returncode == 0, \
        f"{page.relative_to(ROOT)}: a runnable block failed:\n{log.read_text(errors='replace')[-4000:]}"
    return log
