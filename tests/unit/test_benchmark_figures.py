"""Every figure in benchmarks/README.md is a value of the JSON its section names.

A section is a `## ` or `### ` heading of benchmarks/README.md; its JSON files are the
`benchmarks/results/*.json` its text names (code blocks included). Its figures are:

- every number in its tables' body cells, except the first column (it names the row) and the
  header (it names the columns);
- every number in bold (`**0.87**`) outside tables.

Right after each table an HTML comment names, column by column from the second, the JSON keys its
figures come from: `<!-- keys: runs.*.pairs_per_s | ratio_to_plain.* -->`. A key is a path with
`.` between levels (list items by index: `runs.0.pairs_per_s`) matched as a glob (`*`, `?`);
`file.json:path` limits it to one of the files. A bold figure may be any key of the files.

A figure passes when the value of one of its keys, rounded as the README writes the figure,
equals it: 0.79 stands for 0.785-0.795, 2,829 for 2,828.5-2,829.5. Followed by `%`, the figure is
a share (93 % for 0.93); followed by ` s`, it may also be a `*_ms` value in seconds. No value
stands for two figures of one table, so a figure changed to its neighbour's value fails too.

A paragraph beginning "Measured" states when and where: its date must be the `date` of one of
the section's JSON files (when a file has one) and, when both give a time, the README's time or
time range must cover the JSON's; the cores, Python and library versions it names must be the
JSON's; every number after "load" must be a load average in the JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from doc_blocks import ROOT

README = ROOT / "benchmarks" / "README.md"
RESULT_FILE = re.compile(r"benchmarks/results/[\w.-]+\.json")
HEADING = re.compile(r"^(##|###) (.+)")
# A number as the README writes it: 0.79, 2,829, 1.000; not a part of p50, 100k, v2 or 3.11.7.
NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w.]?\w)(\s*%|\s+s\b)?")
BOLD = re.compile(r"\*\*([^*]+)\*\*")
CODE_SPAN = re.compile(r"`[^`]*`")
KEYS = re.compile(r"<!--\s*keys:(.*?)-->", re.DOTALL)
DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
TIME = re.compile(r"(?<![\d:])(\d{2}):(\d{2})(?::\d{2})?(?![\d:])")
VERSION = re.compile(r"\b(Python|torch|transformers|trl|[Rr]ay) (\d+(?:\.\d+)+(?:\+\w+)?)")
CORES = re.compile(r"\b(\d+) (?:shared )?cores\b")   # the machine's; "one pinned core" is a setting
LOAD = re.compile(r"\bload\b[^;:()]*")


@dataclass(frozen=True)
class Figure:
    text: str                          # as written: "0.79", "2,829", "93 %"
    where: str                         # the cell or the bold text it stands in
    keys: tuple[str, ...] = ("*",)     # the JSON keys it may be

    @property
    def number(self) -> float:
        return float(NUMBER.match(self.text).group(1).replace(",", ""))

    @property
    def decimals(self) -> int:
        digits = NUMBER.match(self.text).group(1)
        return len(digits.split(".")[1]) if "." in digits else 0

    @property
    def unit(self) -> str:
        return (NUMBER.match(self.text).group(2) or "").strip()


@dataclass
class Table:
    rows: list[list[str]]                   # the cells of each line, header and --- line included
    keys: list[tuple[str, ...]] | None      # from the comment after it, one entry per column from the second


@dataclass
class Section:
    heading: str
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def files(self) -> list[str]:
        return sorted(set(RESULT_FILE.findall(self.text)))


def sections(text: str) -> list[Section]:
    """The `## ` and `### ` sections of a README, each with its lines (the heading's excluded)."""
    found: list[Section] = []
    for line in text.splitlines():
        if m := HEADING.match(line):
            found.append(Section(m.group(2).strip()))
        elif found:
            found[-1].lines.append(line)
    return found


def prose_and_tables(lines: list[str]) -> tuple[list[str], list[Table]]:
    """The lines outside code blocks and tables, and the tables with the keys named after each."""
    prose, tables, inside = [], [], False
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            inside = not inside
        elif inside:
            continue
        elif line.startswith("|"):
            if i == 0 or not lines[i - 1].startswith("|"):
                tables.append(Table([], keys=None))
            tables[-1].rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
            if i + 1 == len(lines) or not lines[i + 1].startswith("|"):
                comment = KEYS.match("\n".join(lines[i + 1:]).lstrip())
                if comment:
                    tables[-1].keys = [tuple(column.split()) for column in comment.group(1).split("|")]
        else:
            prose.append(line)
    return prose, tables


def numbers(text: str, where: str, keys: tuple[str, ...] = ("*",)) -> list[Figure]:
    text = CODE_SPAN.sub("", text)
    return [Figure(m.group(0).strip(), where, keys) for m in NUMBER.finditer(text)]


def table_problems(section: Section) -> list[str]:
    problems = []
    for table in prose_and_tables(section.lines)[1]:
        header = " | ".join(table.rows[0])
        if table.keys is None:
            problems.append(f"{section.heading}: the table '{header}' has no <!-- keys: … --> comment "
                            f"after it naming the JSON keys of its columns")
        elif len(table.keys) != len(table.rows[0]) - 1 or not all(table.keys):
            problems.append(f"{section.heading}: the keys after the table '{header}' name "
                            f"{len(table.keys)} columns, it has {len(table.rows[0]) - 1} after the first")
    return problems


def figure_groups(section: Section) -> list[list[Figure]]:
    """The figures of each table, then each bold figure on its own."""
    prose, tables = prose_and_tables(section.lines)
    groups = []
    for table in tables:
        group = []
        for row in table.rows[2:]:                  # [0] is the header, [1] the --- line
            for column, cell in enumerate(row[1:]):
                keys = table.keys[column] if table.keys and column < len(table.keys) else ("*",)
                group += numbers(cell, f"{cell}, column '{table.rows[0][column + 1]}'", keys)
        groups.append(group)
    return groups + [numbers(bold, f"**{bold}**") for bold in BOLD.findall("\n".join(prose))]


def figures(section: Section) -> list[Figure]:
    return [figure for group in figure_groups(section) for figure in group]


def walk(value, key: str = ""):
    """(key path, value) of every number, string and null in a JSON value: `runs.0.pairs_per_s`."""
    if isinstance(value, (dict, list)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            yield from walk(v, f"{key}.{k}" if key else str(k))
    else:
        yield key, value


@dataclass(frozen=True)
class Value:
    file: str        # the file's name: "train_throughput.json"
    key: str         # its path in the file: "runs.0.pairs_per_s"
    number: float

    def __str__(self) -> str:
        return f"{self.file}: {self.key} = {self.number}"

    def is_one_of(self, keys: tuple[str, ...]) -> bool:
        return any(fnmatchcase(f"{self.file}:{self.key}" if ":" in key else self.key, key) for key in keys)


def values(results: dict[str, dict]) -> list[Value]:
    """Every number in the files, with where it stands."""
    return [Value(Path(name).name, key, v) for name, data in results.items() for key, v in walk(data)
            if isinstance(v, (int, float)) and not isinstance(v, bool)]


def load_averages(results: dict[str, dict]) -> list[Value]:
    """The load averages the files record: `load_avg_*` numbers, and those in `uptime` lines."""
    found = [v for v in values(results) if "load" in v.key]
    for name, data in results.items():
        for key, line in walk(data):
            if isinstance(line, str) and "load average:" in line:
                found += [Value(Path(name).name, key, float(n))
                          for n in re.findall(r"\d+\.\d+", line.split("load average:")[1])]
    return found


def same(written: float, decimals: int, value: float) -> bool:
    """`value` rounded to `decimals` places is `written` (either way at exactly half)."""
    return abs(value - written) <= 0.5 * 10 ** -decimals + 1e-9


def stands_for(figure: Figure, value: Value) -> bool:
    if not value.is_one_of(figure.keys):
        return False
    if figure.unit == "%":
        return same(figure.number, figure.decimals, value.number * 100)
    return same(figure.number, figure.decimals, value.number) or (
        figure.unit == "s" and value.key.endswith("_ms") and same(figure.number, figure.decimals, value.number / 1000))


def find(figure: Figure, candidates: list[Value]) -> Value | None:
    return next((value for value in candidates if stands_for(figure, value)), None)


def assign(group: list[Figure], candidates: list[Value]) -> list[Value | None]:
    """A value for each figure of a table, no value standing for two of them (so a figure changed
    to its neighbour's value is caught too): a bipartite matching by augmenting paths."""
    options = [[value for value in candidates if stands_for(figure, value)] for figure in group]
    owner: dict[Value, int] = {}

    def claim(i: int, seen: set[Value]) -> bool:
        for value in options[i]:
            if value not in seen:
                seen.add(value)
                if value not in owner or claim(owner[value], seen):
                    owner[value] = i
                    return True
        return False

    for i in range(len(group)):
        claim(i, set())
    assigned = {i: value for value, i in owner.items()}
    return [assigned.get(i) for i in range(len(group))]


def load(files: list[str]) -> dict[str, dict]:
    return {name: json.loads((ROOT / name).read_text(encoding="utf-8")) for name in files}


def figure_problems(section: Section, results: dict[str, dict]) -> tuple[int, list[str]]:
    """(how many figures were checked, a line for each that no JSON value stands behind)."""
    candidates, checked, problems = values(results), 0, []
    for group in figure_groups(section):
        checked += len(group)
        for figure, value in zip(group, assign(group, candidates)):
            said = f"{section.heading}: {figure.text!r} (in {figure.where!r})"
            if value is None and find(figure, candidates) is None:
                problems.append(f"{said} is no value of {' '.join(figure.keys)} in {', '.join(results)}")
            elif value is None:
                taken = [str(v) for v in candidates if stands_for(figure, v)]
                problems.append(f"{said} is only values that other figures of its table stand for: {taken}")
    return checked, problems


def measured_paragraphs(section: Section) -> list[str]:
    prose, _ = prose_and_tables(section.lines)
    paragraphs = " ".join(line.strip() or "\n" for line in prose).split("\n")
    return [p.strip() for p in paragraphs if p.strip().startswith("Measured")]


def json_date(data: dict) -> tuple[str, int | None] | None:
    """(day, minutes after midnight or None) of a result's `date`."""
    if not isinstance(data.get("date"), str) or not (day := DATE.search(data["date"])):
        return None
    time = TIME.search(data["date"][day.end():])
    return day.group(1), int(time.group(1)) * 60 + int(time.group(2)) if time else None


def machine_of(data: dict) -> dict:
    return {**{k: v for k, v in data.items() if k == "cpus"}, **data.get("machine", {})}


def measured_problems(section: Section, results: dict[str, dict]) -> list[str]:
    """What a "Measured" paragraph states about when and where, against the section's JSON."""
    problems = []
    for paragraph in measured_paragraphs(section):
        short = paragraph[:60] + "…"
        text = CODE_SPAN.sub("", paragraph)
        dates = [d for d in map(json_date, results.values()) if d]
        if dates and (day := DATE.search(text)):
            minutes = [int(h) * 60 + int(m) for h, m in TIME.findall(text[day.end():])]
            if not any(d == day.group(1) and (t is None or not minutes or min(minutes) <= t <= max(minutes))
                       for d, t in dates):
                problems.append(f"{section.heading}: {short!r} gives another date or time than the JSON's "
                                f"{[data['date'] for data in results.values() if 'date' in data]}")
        machines = [machine_of(data) for data in results.values()]
        for cores in CORES.findall(text):
            if any("cpus" in m for m in machines) and not any(m.get("cpus") == int(cores) for m in machines):
                problems.append(f"{section.heading}: {short!r} says {cores} cores, the JSON "
                                f"{[m.get('cpus') for m in machines]}")
        for name, version in VERSION.findall(text):
            stated = [m[name.lower()] for m in machines if name.lower() in m]
            if stated and version not in stated:
                problems.append(f"{section.heading}: {short!r} says {name} {version}, the JSON {stated}")
        loads = load_averages(results)
        text = VERSION.sub("", TIME.sub("", DATE.sub("", text)))
        for clause in LOAD.findall(text):
            for figure in numbers(clause, clause):
                if find(figure, loads) is None:
                    problems.append(f"{section.heading}: load {figure.text!r} (in {short!r}) is no load "
                                    f"average of {', '.join(results)}")
    return problems


SECTIONS = sections(README.read_text(encoding="utf-8"))


def test_the_readme_has_its_sections():
    assert len(SECTIONS) >= 10, [s.heading for s in SECTIONS]


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.heading.split(":")[0])
def test_every_figure_is_its_json(section):
    assert section.files, f"{section.heading}: names no benchmarks/results/*.json"
    missing = [name for name in section.files if not (ROOT / name).exists()]
    assert not missing, f"{section.heading}: names files that do not exist: {missing}"
    results = load(section.files)
    checked, problems = figure_problems(section, results)
    problems = table_problems(section) + problems + measured_problems(section, results)
    assert not problems, "\n".join(problems)
    assert checked, f"{section.heading}: no figure in a table or in bold, so nothing was checked"


# The checker itself: it reads what it should, and a figure changed by one in its last digit fails.

SAMPLE = """\
## sample: a made-up benchmark

Measured 2026-12-01 10:00-10:30, 2 cores, Python 3.11.7; load average 1.5 before, 2.0 after.
Results: `benchmarks/results/sample.json`.

| variant | rows/s | busy | p50 |
| --- | --- | --- | --- |
| (a) 2 threads, batch 16 | 59.0 (0.79× bare) | 93 % | 2.71 s |
<!-- keys: runs.*.rows_per_s ratio | runs.*.busy | runs.*.p50_ms -->

Driver 1M / 100k: **1.024×**.
"""
SAMPLE_JSON = {"runs": [{"rows_per_s": 59.04, "busy": 0.93, "p50_ms": 2707.0, "other": 59.1}], "ratio": 0.793,
               "driver": 1.0241, "date": "2026-12-01 10:29:59",
               "machine": {"cpus": 2, "python": "3.11.7", "load_avg_before": [1.48, 1, 1], "load_avg_after": [2.04]}}


def check(readme: str, data: dict = SAMPLE_JSON) -> tuple[int, list[str]]:
    section, = sections(readme)
    results = {"benchmarks/results/sample.json": data}
    checked, problems = figure_problems(section, results)
    return checked, table_problems(section) + problems + measured_problems(section, results)


def test_the_checker_reads_cells_and_bold_figures_and_passes_the_right_ones():
    assert sections(SAMPLE)[0].files == ["benchmarks/results/sample.json"]
    assert [(f.text, f.keys) for f in figures(sections(SAMPLE)[0])] == [
        ("59.0", ("runs.*.rows_per_s", "ratio")), ("0.79", ("runs.*.rows_per_s", "ratio")),
        ("93 %", ("runs.*.busy",)), ("2.71 s", ("runs.*.p50_ms",)), ("1.024", ("*",))]
    assert check(SAMPLE) == (5, [])


@pytest.mark.parametrize("old, new", [
    ("59.0 (", "59.1 ("),        # 59.1 is in the file, but under a key the column does not name
    ("0.79×", "0.80×"), ("93 %", "94 %"), ("2.71 s", "2.72 s"), ("**1.024×**", "**1.025×**"),
])
def test_the_checker_catches_a_figure_off_by_one_in_its_last_digit(old, new):
    assert old in SAMPLE
    _, problems = check(SAMPLE.replace(old, new))
    figure = new.strip("*( ").removesuffix("×").removesuffix("(").strip()
    assert len(problems) == 1 and problems[0].startswith(f"sample: a made-up benchmark: {figure!r}"), problems
    assert "sample.json" in problems[0]


@pytest.mark.parametrize("old, new", [
    ("2026-12-01 10:00", "2026-12-02 10:00"),          # another day
    ("10:00-10:30", "10:00-10:20"),                    # the JSON was written after the range
    ("2 cores", "4 cores"),
    ("Python 3.11.7", "Python 3.12.1"),
    ("1.5 before", "2.5 before"),
])
def test_the_checker_catches_another_date_or_machine(old, new):
    assert old in SAMPLE
    _, problems = check(SAMPLE.replace(old, new))
    assert len(problems) == 1 and problems[0].startswith("sample: a made-up benchmark: "), problems


def test_a_table_must_name_the_keys_of_each_column():
    _, problems = check(SAMPLE.replace(" | runs.*.p50_ms -->", " -->"))
    assert problems == ["sample: a made-up benchmark: the keys after the table 'variant | rows/s | busy | p50' "
                        "name 2 columns, it has 3 after the first"]
    _, problems = check(SAMPLE.replace("<!-- keys: runs.*.rows_per_s ratio | runs.*.busy | runs.*.p50_ms -->\n", ""))
    assert problems[0].startswith("sample: a made-up benchmark: the table 'variant | rows/s | busy | p50' has no")


@pytest.mark.parametrize("old, new, blamed", [
    ("| 0.90 |", "| 0.91 |", "0.91"),
    ("| 14.6, 16.6 |", "| 14.5, 16.6 |", "14.5"),    # round 2's value of the next row: taken already
])
def test_the_real_readme_fails_with_one_figure_altered(old, new, blamed):
    section = next(s for s in SECTIONS if s.heading.startswith("train_throughput"))
    altered = Section(section.heading, [line.replace(old, new) for line in section.lines])
    assert altered.lines != section.lines
    _, problems = figure_problems(altered, load(section.files))
    assert len(problems) == 1 and problems[0].startswith(f"{section.heading}: '{blamed}'"), problems
    assert "train_throughput.json" in problems[0]
