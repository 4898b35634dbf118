"""Typed job configs: defaults, then the YAML named by --config, then key.sub=value overrides.

    cfg = load_config(ScoreJobConfig, ["--config", "configs/score_batch/tiny.yaml", "batch_size=64"])

Every problem (unknown key, wrong type, bad value) is collected and raised together as one
ConfigError that names the key and where its value came from, before any work starts.
A config class is a dataclass; it may define `check(self) -> list[str]` for value rules. A job
that composes other jobs' configs (distill) and fills some of their keys itself names them in a
class attribute `SET_BY_JOB` (dotted keys): a layer that sets one to another value than its
default is refused (the job would overwrite it), and their nested checks are skipped.

A value rule that is a range is written once, in the words every config's messages use:

    def check(self) -> list[str]:
        return range_problems(self, num_workers=">= 1", warmup_ratio="[0, 1)")
        # ["num_workers: must be >= 1, got 0"] when num_workers is 0

A nested section's defaults are its parent's: `lora.r=4` keeps the rest of the lora section a
job's default_factory gives, not the section class's own defaults.
"""

from __future__ import annotations

import ast
import contextvars
import copy
import dataclasses
import difflib
import inspect
import re
import sys
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

import yaml

from rayscore.shipped import current_job, find_config, shipped_names

T = TypeVar("T")

__all__ = ["ConfigError", "load_config", "parse_config", "to_dict", "save_config", "describe", "on_load",
           "interval_problems", "range_problems", "resolve_config", "set_by_job"]

on_load: contextvars.ContextVar[Callable[[Any], None] | None] = contextvars.ContextVar("on_load", default=None)
"""Called with each config load_config returns during a job run (rayscore.entry sets it to the
pre-flight checks). Unset elsewhere, so tests and tools load configs whose inputs are not here."""


class ConfigError(ValueError):
    """Bad configuration: every problem found, one per line, each naming its key and source."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))


def load_config(cls: type[T], argv: list[str] | None = None) -> T:
    """Build `cls` from command-line words: `--config FILE` (optional) and `key.sub=value` overrides."""
    argv = list(sys.argv[1:] if argv is None else argv)
    wants_help = "--help" in argv or "-h" in argv
    argv = [word for word in argv if word not in ("--help", "-h")]
    config_path, overrides, problems = None, [], []
    words = iter(argv)
    for word in words:
        if word == "--config":
            config_path = next(words, None)
            if config_path is None:
                problems.append("--config: needs a file path")
        elif word.startswith("--config="):
            config_path = word.split("=", 1)[1]
        elif "=" in word and not word.startswith("-"):
            overrides.append(word)
        else:
            problems.append(f"{word!r}: expected --config FILE or key=value")
    if problems:
        raise ConfigError(problems)

    layers: list[tuple[dict, str]] = []
    if config_path is not None:
        layers.append((_read_yaml(config_path), config_path))
    for word in overrides:
        key, raw = word.split("=", 1)
        layers.append((_nest(key.strip(), yaml.safe_load(raw) if raw else ""), "command line"))
    if wants_help:
        # The values these layers resolve to; a problem is shown, not raised, so help always prints.
        obj, problems = resolve_config(cls, layers)
        print(describe(cls, obj, problems))
        raise SystemExit(0)
    cfg = parse_config(cls, layers)
    hook = on_load.get()
    if hook is not None:
        hook(cfg)
    return cfg


def range_problems(obj: Any, **ranges: str) -> list[str]:
    """One problem for each named field of `obj` outside its range ("name: must be >= 1, got 0").
    A range is `>= a`, `> a`, or an interval `[a, b]`, `[a, b)`, `(a, b]`, `(a, b)`; None (a limit
    left unset) is within every range."""
    problems = []
    for name, written in ranges.items():
        value = getattr(obj, name)
        if value is not None and not _within(value, written):
            problems.append(f"{name}: must be {'in ' if written[0] in '[(' else ''}{written}, got {value}")
    return problems


def interval_problems(obj: Any, name: str) -> list[str]:
    """A field that must be an interval [low, high] with low <= high, or None (unset)."""
    value = getattr(obj, name)
    if value is None or (len(value) == 2 and value[0] <= value[1]):
        return []
    return [f"{name}: must be [low, high] with low <= high, got {value}"]


_BOUND = re.compile(r"(>=|>) *(-?[0-9.e]+)")
_INTERVAL = re.compile(r"([\[(]) *(-?[0-9.e]+), *(-?[0-9.e]+) *([\])])")


def _within(value: float, written: str) -> bool:
    if m := _BOUND.fullmatch(written):
        return value >= float(m[2]) if m[1] == ">=" else value > float(m[2])
    if m := _INTERVAL.fullmatch(written):
        low, high = float(m[2]), float(m[3])
        above = low <= value if m[1] == "[" else low < value
        return above and (value <= high if m[4] == "]" else value < high)
    raise ValueError(f"range_problems: {written!r} is not a range (>= a, > a, [a, b], [a, b), (a, b], (a, b))")


def parse_config(cls: type[T], layers: list[tuple[dict, str]]) -> T:
    """Merge (data, source) layers over the defaults of `cls`, type-check, then run each `check()`."""
    obj, problems = resolve_config(cls, layers)
    if problems:
        raise ConfigError(problems)
    return obj


def resolve_config(cls: type[T], layers: list[tuple[dict, str]]) -> tuple[T, list[str]]:
    """parse_config without raising: the config these layers make and every problem with it (what
    --help shows; with a type problem the object holds the raw value, or is None)."""
    merged: dict = {}
    sources: dict[str, str] = {}
    for data, source in layers:
        _merge(merged, data, source, sources, prefix="")
    problems: list[str] = []
    obj = _build(cls, merged, "", sources, problems)
    if not problems:
        problems += _set_by_job_problems(cls, obj, sources)
    if not problems:
        _check(obj, "", sources, problems)
    return obj, problems


def set_by_job(cls: type, prefix: str = "") -> list[str]:
    """The dotted keys a job fills itself (SET_BY_JOB of `cls` and of its nested sections)."""
    keys = [prefix + key for key in getattr(cls, "SET_BY_JOB", ())]
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]):
            keys += set_by_job(hints[f.name], prefix + f.name + ".")
    return keys


def to_dict(cfg: Any) -> dict:
    """The config as plain data (what save_config writes and parse_config reads back)."""
    return dataclasses.asdict(cfg)


def save_config(cfg: Any, path: str | Path) -> Path:
    """Write the resolved config as YAML (next to a job's outputs)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(to_dict(cfg), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def describe(cls: type, values: Any = None, problems: list[str] | None = None) -> str:
    """One line per key: name, value, type and the field's docstring (for --help). `values`: the
    config to show (default: the defaults of `cls`, nested sections as its fields make them);
    `problems`: those of resolving it (default: the checks of the defaults). A key still required
    reads `(required)`, a key the job fills itself `(set by the job)`; other problems follow."""
    if values is None and problems is None:
        values, problems = resolve_config(cls, [])
    problems = problems or []
    required = {m.group(1) for m in map(_REQUIRED.match, problems) if m}
    lines = _describe(cls, values, "", required, set(set_by_job(cls)))
    others = [p for p in problems if not _REQUIRED.match(p)]
    if others:
        lines += ["", "problems:", *(f"  {p}" for p in others)]
    return "\n".join(lines)


# --- internals -------------------------------------------------------------------------------

# "<key> (from <source>): required ..." -- a check's or _build's word for a key not set yet.
_REQUIRED = re.compile(r"^([\w.]+)(?: \(from [^)]*\))?: required\b")


def _describe(cls: type, values: Any, prefix: str, required: set[str], by_job: set[str]) -> list[str]:
    docs = _field_docs(cls)
    hints = typing.get_type_hints(cls)
    lines = []
    for f in dataclasses.fields(cls):
        key, tp = prefix + f.name, hints[f.name]
        has, value = (True, getattr(values, f.name)) if values is not None else _field_default(f)
        if dataclasses.is_dataclass(tp):
            lines.append(f"{key}:  {docs.get(f.name, '')}".rstrip())
            lines += _describe(tp, value if has else None, key + ".", required, by_job)
            continue
        shown = ("(set by the job)" if key in by_job else
                 "(required)" if key in required or not has else repr(value))
        lines.append(f"{key} = {shown}  [{_type_name(tp)}]  {docs.get(f.name, '')}".rstrip())
    return lines


def _field_default(f: dataclasses.Field) -> tuple[bool, Any]:
    """(has a default, the default): a default_factory is called, so a section shows its real defaults."""
    if f.default is not dataclasses.MISSING:
        return True, f.default
    if f.default_factory is not dataclasses.MISSING:
        return True, f.default_factory()
    return False, None


def _set_by_job_problems(cls: type, obj: Any, sources: dict) -> list[str]:
    """A layer's value for a key the job fills itself would be overwritten without a word: refused.
    Its default (what a saved config.yaml holds) is let through."""
    default = _build(cls, {}, "", {}, [])
    problems = []
    for key in set_by_job(cls):
        if key in sources and _get(obj, key) != _get(default, key):
            problems.append(f"{_where(key, sources)}: set by the job itself (it would be overwritten); leave it out")
    return problems


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
    return obj


def _read_yaml(path: str) -> dict:
    job = current_job.get()
    try:
        data = yaml.safe_load(find_config(path, job).read_text(encoding="utf-8"))
    except FileNotFoundError:
        names = shipped_names(job) if job else []
        hint = f" (shipped configs of {job}: {', '.join(names)})" if names else ""
        raise ConfigError([f"--config {path}: no such file, nor a shipped config of that name{hint}"]) from None
    except yaml.YAMLError as e:
        raise ConfigError([f"{path}: not valid YAML: {e}"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: top level must be a mapping of keys, got {type(data).__name__}"])
    return data


def _nest(dotted: str, value: Any) -> dict:
    out: dict = {}
    node = out
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def _merge(dst: dict, src: dict, source: str, sources: dict, prefix: str) -> None:
    for key, value in src.items():
        key = str(key)
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            _merge(dst[key], value, source, sources, prefix + key + ".")
        else:
            dst[key] = value
        _record_sources(value, source, sources, prefix + key)


def _record_sources(value: Any, source: str, sources: dict, key: str) -> None:
    sources[key] = source
    if isinstance(value, dict):
        for k, v in value.items():
            _record_sources(v, source, sources, f"{key}.{k}")


def _where(key: str, sources: dict) -> str:
    return f"{key} (from {sources[key]})" if key in sources else key


def _build(cls: type, data: Any, prefix: str, sources: dict, problems: list[str], base: Any = None) -> Any:
    """`cls` from `data` over `base` (the default instance the parent's field gives; None at the
    top, where the class's own field defaults apply)."""
    if not isinstance(data, dict):
        problems.append(f"{_where(prefix.rstrip('.'), sources)}: expected a mapping, got {data!r}")
        return None
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    for key in data:
        if key not in names:
            problems.append(f"{_where(prefix + key, sources)}: {_unknown(prefix, str(key), names)}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        key, tp = prefix + f.name, hints[f.name]
        has, default = (True, copy.deepcopy(getattr(base, f.name))) if base is not None else _field_default(f)
        if f.name in data:
            if dataclasses.is_dataclass(tp):
                kwargs[f.name] = _build(tp, data[f.name], key + ".", sources, problems, default if has else None)
            else:
                kwargs[f.name] = _coerce(data[f.name], tp, key, sources, problems)
        elif has:
            kwargs[f.name] = default
        else:
            problems.append(f"{key}: required, not set (set it in the YAML or as {key}=...)")
    try:
        return cls(**kwargs)
    except TypeError:  # a required field was missing: already reported above
        return None


def _unknown(prefix: str, key: str, names: set[str]) -> str:
    close = difflib.get_close_matches(key, names, n=1)
    if close:
        return f"unknown key; did you mean {prefix + close[0]!r}?"
    return f"unknown key (known here: {', '.join(sorted(names))})"


def _coerce(value: Any, tp: Any, key: str, sources: dict, problems: list[str]) -> Any:
    ok, out = _convert(value, tp)
    if not ok:
        problems.append(f"{_where(key, sources)}: expected {_type_name(tp)}, got {value!r}")
    return out


def _convert(value: Any, tp: Any) -> tuple[bool, Any]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return True, value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return True, None
        for arg in args:
            if arg is type(None):
                continue
            ok, out = _convert(value, arg)
            if ok:
                return True, out
        return False, value
    if origin is Literal:
        return value in args, value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return False, value
        (item_tp, *_) = args or (Any,)
        results = [_convert(v, item_tp) for v in value]
        return all(ok for ok, _ in results), [v for _, v in results]
    if origin is dict:
        if not isinstance(value, dict):
            return False, value
        _, val_tp = args or (Any, Any)
        results = {str(k): _convert(v, val_tp) for k, v in value.items()}
        return all(ok for ok, _ in results.values()), {k: v for k, (_, v) in results.items()}
    if tp is bool:
        return isinstance(value, bool), value
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if tp is str:
        # YAML reads `path=123` as an int; a string field takes any scalar's text.
        ok = isinstance(value, (str, int, float)) and not isinstance(value, bool)
        return ok, str(value) if ok else value
    if dataclasses.is_dataclass(tp):
        return False, value  # nested configs are built by _build, never from a scalar
    return isinstance(value, tp), value


def _check(obj: Any, prefix: str, sources: dict, problems: list[str], skip: frozenset = frozenset()) -> None:
    skip = skip | {prefix + key for key in getattr(obj, "SET_BY_JOB", ())}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            _check(value, prefix + f.name + ".", sources, problems, skip)
    check = getattr(obj, "check", None)
    if callable(check):
        for problem in check():
            key = prefix + problem.split(":", 1)[0]
            rest = problem.split(":", 1)[1] if ":" in problem else ""
            if key not in skip:
                problems.append(f"{_where(key, sources)}:{rest}")


def _type_name(tp: Any) -> str:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (Union, types.UnionType):
        return " | ".join("null" if a is type(None) else _type_name(a) for a in args)
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"mapping to {_type_name(args[1])}" if args else "mapping"
    return getattr(tp, "__name__", str(tp))


def _field_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings: the string literal right under each field, a subclass's over its bases'."""
    docs = {}
    for klass in reversed(cls.__mro__[:-1]):
        docs.update(_own_field_docs(klass))
    return docs


def _own_field_docs(cls: type) -> dict[str, str]:
    try:
        tree = ast.parse(inspect.getsource(cls))
    except (OSError, TypeError, SyntaxError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs = {}
    for node, nxt in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)):
            docs[node.target.id] = " ".join(nxt.value.value.split())  # whole sentences, one line
    return docs
