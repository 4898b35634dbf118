"""The documentation holds: its job commands load, its links lead somewhere, the README stays short.

    .venv/bin/pytest tests/unit/test_docs.py -q

Read: README.md, docs/*.md and benchmarks/README.md. Nothing here starts Ray or runs a job.

Job commands, found simply:
1. Only fenced code blocks count: the lines between a line starting with ``` and the next one.
   A line ending in `\\` is joined with the next.
2. Each line is split into words with shlex (`#` starts a comment) and cut into commands at
   `&&`, `||`, `;` and `|`.
3. A command is a job command when its words hold `<python> -m jobs.<job>` (any word whose name
   starts with `python`, so `.venv/bin/python` too), `<python> -m rayscore.cli <job>`, or
   `rayscore <job>` as the command word (the first word after `NAME=value` words, or the word
   right after `--`). `ray job submit ... -- python -m jobs.<job> ...` is the first form. The
   words after the job are its arguments.
4. Checked for each: the job is a module in jobs/ (or a `rayscore` alias, rayscore.cli.resolve);
   every `--config PATH` exists; the config with the `key=value` words loads through
   rayscore.config.load_config with the class the job's main() passes to load_config (read from
   jobs/<job>.py with ast). jobs.demo loads one config per step of its STEPS table (step ->
   (class, YAML)) with the `<step>.key=value` words of that step, as its main() does. `--help`
   must print the keys and exit 0. `rayscore --help` must list the jobs. Paths are not checked
   to exist beyond `--config` (and `--runtime-env`): loading a config does not read its inputs,
   so `input=data/in` is fine.
5. A word containing `<` or `$` is a placeholder and is left out (with the path after a
   `--config`). A job word that is a placeholder (`jobs.<job>`) leaves nothing to check: that
   command fails, like a line that mentions `-m jobs.`, `-m rayscore.cli` or a `rayscore`
   command word and does not parse into a job command. Nothing is skipped silently.

Runnable blocks: a fence whose info string holds the word `runnable` (```bash runnable) marks a
block that tests/integration/test_docs_run.py runs as written, on tiny configs (its docstring says
how and where). Its job commands are load-checked here like all others, and each must name a
`configs/<job>/tiny*.yaml` and use no placeholder: what runs in the tests is what the page shows.

Also: every relative link in those files points to an existing file or folder; README.md has at
most 150 lines; the README's first fenced block is the demo command and then exactly the test
command .ci/run runs.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from doc_blocks import DOCS, ROOT, fenced_blocks
from rayscore import cli
from rayscore.config import load_config
from rayscore.shipped import current_job, find_config

README_MAX_LINES = 150
SEPARATORS = {"&&", "||", ";", "|"}
# A line that looks like it runs a job; it must then parse into one (rule 5).
MENTION = re.compile(r"-m\s+jobs\.|-m\s+rayscore\.cli|(?:^|[;&|]|--)\s*(?:[A-Za-z_]+=\S*\s+)*rayscore(?:\s|$)")


@dataclass
class Command:
    where: str                   # file:line
    text: str                    # the line as written (continuations joined)
    job: str | None = None       # the module in jobs/; None when it could not be read
    args: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)   # the whole command's words
    cli_help: bool = False       # `rayscore --help`
    cli_command: str | None = None   # `rayscore init DIR`, `rayscore show DIR`: not a job
    problem: str | None = None   # why the line cannot be checked


def fenced_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of every line inside a fenced block, continuation lines joined."""
    out: list[tuple[int, str]] = []
    for block in fenced_blocks(path):
        pending, start = "", 0
        for number, line in enumerate(block.lines, block.line):
            if not pending:
                start = number
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            out.append((start, pending + line))
            pending = ""
    return out


def is_python(word: str) -> bool:
    return Path(word).name.startswith("python")


def command_word_positions(words: list[str]) -> list[int]:
    """Where a command word can stand: after leading NAME=value words, and right after `--`."""
    first = 0
    while first < len(words) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S*", words[first]):
        first += 1
    return [first] + [i + 1 for i, w in enumerate(words) if w == "--"]


def read_command(words: list[str]) -> tuple[str, list[str]] | None:
    """(job word, its arguments) of one command's words, or None when it runs no job."""
    for i, word in enumerate(words[:-2]):
        if is_python(word) and words[i + 1] == "-m" and words[i + 2].startswith("jobs."):
            return words[i + 2].removeprefix("jobs."), words[i + 3:]
        if is_python(word) and words[i + 1] == "-m" and words[i + 2] == "rayscore.cli":
            return (words[i + 3], words[i + 4:]) if len(words) > i + 3 else ("", [])
    for i in command_word_positions(words):
        if i < len(words) and words[i] == "rayscore":
            return (words[i + 1], words[i + 2:]) if len(words) > i + 1 else ("", [])
    return None


def commands_in(path: Path) -> list[Command]:
    found = []
    for number, line in fenced_lines(path):
        where = f"{path.relative_to(ROOT)}:{number}"
        try:
            words = shlex.split(line, comments=True)
        except ValueError as e:
            if MENTION.search(line):
                found.append(Command(where, line, problem=f"cannot split into words: {e}"))
            continue
        segments, current = [], []
        for word in words:
            if word in SEPARATORS:
                segments.append(current)
                current = []
            else:
                current.append(word)
        segments.append(current)
        read = [(segment, r) for segment in segments if (r := read_command(segment)) is not None]
        if not read:
            if MENTION.search(line.split(" #")[0]):
                found.append(Command(where, line, problem="mentions a job but no job command was read"))
            continue
        for segment, (job_word, args) in read:
            cmd = Command(where, line, args=args, words=segment)
            if job_word in ("-h", "--help"):
                cmd.cli_help = True
            elif job_word in cli.COMMANDS:
                cmd.cli_command = job_word
            elif "<" in job_word or "$" in job_word or not job_word:
                cmd.problem = f"the job {job_word!r} is a placeholder or missing: nothing to check"
            elif cli.resolve(job_word) is None or not (ROOT / "jobs" / f"{cli.resolve(job_word)}.py").exists():
                cmd.problem = f"no job {job_word!r}: not a module in jobs/ nor a rayscore alias"
            else:
                cmd.job = cli.resolve(job_word)
            found.append(cmd)
    return found


COMMANDS = [cmd for path in DOCS if path.exists() for cmd in commands_in(path)]


def config_loads(job: str) -> list[tuple[str | None, type, str | None]]:
    """How jobs/<job>.py loads its config: [(step or None, config class, step's YAML or None)].

    The class is the first argument of the load_config call inside main(); when that is not a
    module-level name (jobs.demo loops over its steps), the module's STEPS table gives one
    (class, YAML) per step."""
    tree = ast.parse((ROOT / "jobs" / f"{job}.py").read_text(encoding="utf-8"))
    main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    calls = [n for n in ast.walk(main) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "load_config"]
    assert calls, f"jobs/{job}.py: main() does not call load_config"
    module = importlib.import_module(f"jobs.{job}")
    first = calls[0].args[0]
    cls = getattr(module, first.id, None) if isinstance(first, ast.Name) else None
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        return [(None, cls, None)]
    steps = getattr(module, "STEPS", None)
    assert isinstance(steps, dict), f"jobs/{job}.py: cannot tell which config class main() loads"
    return [(step, cls, path) for step, (cls, path) in steps.items()]


def split_args(args: list[str]) -> tuple[list[str], list[str]]:
    """The job's words with placeholders left out -> (--config paths, the words for load_config)."""
    paths, kept = [], []
    words = iter(args)
    for word in words:
        if word == "--config":
            path = next(words, "")
            if "<" in path or "$" in path:
                continue
            paths.append(path)
            kept += [word, path]
        elif "<" in word or "$" in word:
            continue
        else:
            if word.startswith("--config="):
                paths.append(word.split("=", 1)[1])
            kept.append(word)
    return paths, kept


def test_the_docs_have_job_commands():
    assert len([c for c in COMMANDS if c.job]) >= 10, [c.where for c in COMMANDS]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: c.where)
def test_a_documented_command_loads(cmd, monkeypatch, capsys, request):
    assert cmd.problem is None, f"{cmd.where}: cannot check `{cmd.text.strip()}`: {cmd.problem}"
    monkeypatch.chdir(ROOT)   # commands run from the project root
    if cmd.cli_help:
        assert cli.main(["--help"]) == 0
        assert "score_batch" in capsys.readouterr().out
        return
    if cmd.cli_command:
        assert cmd.args, f"{cmd.where}: rayscore {cmd.cli_command} needs a directory"
        return
    token = current_job.set(cmd.job)     # `--config NAME` names one of this job's shipped configs
    request.addfinalizer(lambda: current_job.reset(token))
    runtime_envs = [after for before, after in zip(cmd.words, cmd.words[1:]) if before == "--runtime-env"]
    for path in runtime_envs:
        if "<" not in path and "$" not in path:
            assert (ROOT / path).exists(), f"{cmd.where}: --runtime-env {path} does not exist"
    paths, argv = split_args(cmd.args)
    for path in paths:
        assert find_config(path, cmd.job).exists(), f"{cmd.where}: --config {path} does not exist"
    loads = config_loads(cmd.job)
    steps = tuple(f"{step}." for step, _, _ in loads if step is not None)
    if steps:
        stray = [w for w in argv if not w.startswith(steps)]
        assert not stray, f"{cmd.where}: jobs.{cmd.job} reads only <step>.key=value, got {stray}"
    for step, cls, step_yaml in loads:
        if step is None:
            words = argv
        else:
            words = ["--config", step_yaml, *[w.split(".", 1)[1] for w in argv if w.startswith(step + ".")]]
        if "--help" in words or "-h" in words:
            with pytest.raises(SystemExit) as stop:
                load_config(cls, words)
            assert stop.value.code == 0
            assert capsys.readouterr().out.strip(), f"{cmd.where}: --help printed nothing"
            continue
        try:
            load_config(cls, words)
        except Exception as e:
            pytest.fail(f"{cmd.where}: `{cmd.text.strip()}` does not load with {cls.__name__}"
                        f"{f' (step {step})' if step else ''}: {e}")


def runnable_commands() -> list[Command]:
    lines = {f"{b.path.relative_to(ROOT)}:{n}" for path in DOCS if path.exists()
             for b in fenced_blocks(path) if b.runnable for n in range(b.line, b.line + len(b.lines))}
    return [c for c in COMMANDS if c.where in lines]


def test_the_docs_have_runnable_blocks():
    assert {c.job for c in runnable_commands()} >= {"generate_records", "train_reward", "score_batch"}


@pytest.mark.parametrize("cmd", runnable_commands(), ids=lambda c: c.where)
def test_a_runnable_command_is_tiny_and_literal(cmd):
    assert cmd.job and not [w for w in cmd.words if "<" in w or "$" in w], f"{cmd.where}: {cmd.text.strip()}"
    paths, _ = split_args(cmd.args)
    assert paths and all(re.fullmatch(r"configs/\w+/tiny\w*\.yaml", p) for p in paths), (
        f"{cmd.where}: a runnable command runs a configs/<job>/tiny*.yaml, got {paths}")


LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.MULTILINE)


def relative_links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every link outside code: inline links, images and reference links whose
    target is not a URL or an anchor in the same page."""
    found, inside = [], False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            inside = not inside
            continue
        if inside:
            continue
        line = re.sub(r"`[^`]*`", "", line)
        for target in LINK.findall(line) + REFERENCE.findall(line):
            if not re.match(r"[a-z][a-z0-9+.-]*:|#", target):
                found.append((number, target))
    return found


@pytest.mark.parametrize("path", [p for p in DOCS if p.exists()], ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_files(path):
    broken = [f"{path.relative_to(ROOT)}:{n}: {t}" for n, t in relative_links(path)
              if not (path.parent / t.split("#", 1)[0]).exists()]
    assert not broken, "links to nothing:\n" + "\n".join(broken)


def test_the_doc_files_exist():
    missing = [str(p.relative_to(ROOT)) for p in DOCS if not p.exists()]
    assert not missing


def test_the_readme_is_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines (at most {README_MAX_LINES})"


def first_fenced_block(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    fences = [i for i, line in enumerate(lines) if line.lstrip().startswith("```")]
    return lines[fences[0] + 1:fences[1]]


def ci_commands() -> list[str]:
    """What .ci/run runs: its lines without the shebang, comments, blank lines, `set` and `cd`."""
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith(("#", "set ", "cd "))]


def test_the_readme_starts_with_the_demo_and_the_ci_test_command():
    block = first_fenced_block(ROOT / "README.md")
    assert len(block) == 2, block
    demo, tests = block
    assert demo.endswith("-m jobs.demo"), demo
    assert ci_commands() == [tests], "README.md's test command and .ci/run differ"
    assert tests.startswith(demo.rsplit("&&", 1)[0] + "&&"), "the two commands install differently"
