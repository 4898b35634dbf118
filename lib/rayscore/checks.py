"""Check sets: deterministic checks whose observations a scorer's model reads.

    checks = load_check_set("rayscore.addresses.checks:ADDRESS_CHECKS")
    texts, flags = observe(checks, ["张三,北京市朝阳区...,邮编:1001,电话:138..."])
    texts[0]   # '张三,北京市朝阳区...,邮编:1001,电话:138... 检查:邮编位数'  (what the model reads)
    flags[0]   # ('postcode_format',)                                      (what failed, per row)

A reward model is weak at what a tool does perfectly, arithmetic and lookup (counting a
postcode's digits, knowing which city lies in which province). A check set does those and hands
the model its observations as text appended to the user turn, so the model learns when they
matter and still sees everything no check names. `observe` is the one way text reaches the
model with its observations: training pairs, scoring, serving and evaluation all call it.

A check set is any object with `name`, `version`, `flags` (every flag it can raise), `certain`
(the flags no correct text raises: a text failing one is wrong whatever a model says),
`examples` (a few texts) and `run(texts) -> list[CheckResult]`, named in configs by its import
path (`module:attribute`). Its identity (name, version and the rendering of its examples) is saved in
the model directory, so a model is always scored with the observations it was trained with.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rayscore.model_cache import local_model_dir

CHECKS_FILE = "checks.json"


@dataclass(frozen=True)
class CheckResult:
    """What a check set found in one text."""

    flags: tuple[str, ...]
    """Names of the checks that failed (empty: every check passed)."""
    observation: str
    """The fixed-format text the model reads after the record (short: it costs tokens)."""


class CheckSet(Protocol):
    name: str
    version: str
    flags: tuple[str, ...]
    certain: frozenset[str]
    examples: tuple[str, ...]

    def run(self, texts: list[str]) -> list[CheckResult]: ...


class CheckSetMismatch(ValueError):
    """A model is asked to score with observations other than those it was trained with."""


def load_check_set(ref: str) -> CheckSet:
    """The check set at `module:attribute` (e.g. rayscore.addresses.checks:ADDRESS_CHECKS)."""
    module_name, _, attribute = ref.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"checks: {ref!r} is not a check set reference; write module:attribute, "
                         "e.g. rayscore.addresses.checks:ADDRESS_CHECKS")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ValueError(f"checks: cannot import {module_name!r} ({e})") from None
    checks = getattr(module, attribute, None)
    if checks is None or not callable(getattr(checks, "run", None)):
        raise ValueError(f"checks: {module_name} has no check set named {attribute!r}")
    return checks


def certain_failures(checks: CheckSet | None, flags) -> tuple[str, ...]:
    """The failed checks that are certain: a model never overrules them."""
    if checks is None:
        return ()
    return tuple(f for f in flags if f in checks.certain)


def with_observation(text: str, result: CheckResult) -> str:
    return f"{text} {result.observation}" if result.observation else text


def observe(checks: CheckSet | None, texts: list[str]) -> tuple[list[str], list[tuple[str, ...]]]:
    """(the texts as the model reads them, each text's failed checks). No check set: unchanged."""
    if checks is None:
        return list(texts), [() for _ in texts]
    results = checks.run(list(texts))
    return [with_observation(t, r) for t, r in zip(texts, results)], [r.flags for r in results]


def observe_conversations(checks: CheckSet | None,
                          conversations: list[list[dict]]) -> tuple[list[list[dict]], list[tuple[str, ...]]]:
    """observe() on each conversation's last user turn (the one its final answer replies to)."""
    if checks is None:
        return conversations, [() for _ in conversations]
    where = [_last_user(c) for c in conversations]
    with_user = [k for k, i in enumerate(where) if i is not None]
    texts, found = observe(checks, [conversations[k][where[k]]["content"] for k in with_user])
    out, flags = list(conversations), [()] * len(conversations)
    for k, text, f in zip(with_user, texts, found):  # a conversation without a user turn is left as it is
        c, i = conversations[k], where[k]
        out[k], flags[k] = [*c[:i], {**c[i], "content": text}, *c[i + 1:]], f
    return out, flags


def _last_user(messages: list[dict]) -> int | None:
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    return users[-1] if users else None


def identity(checks: CheckSet, ref: str) -> dict:
    """What a model directory records about its check set: enough to refuse another one."""
    return {"ref": ref, "name": checks.name, "version": checks.version, "flags": list(checks.flags),
            "certain": sorted(checks.certain),
            "examples": {text: r.observation for text, r in zip(checks.examples, checks.run(list(checks.examples)))}}


def save_check_set(ref: str | None, model_dir: str | Path) -> None:
    """Write checks.json into a model directory (nothing when the model reads no observations)."""
    if ref:
        path = Path(model_dir, CHECKS_FILE)
        path.write_text(json.dumps(identity(load_check_set(ref), ref), ensure_ascii=False, indent=1),
                        encoding="utf-8")


def saved_check_ref(model_dir: str | Path) -> str | None:
    path = Path(local_model_dir(model_dir), CHECKS_FILE)
    return json.loads(path.read_text(encoding="utf-8"))["ref"] if path.exists() else None


def resolve_check_set(model_dir: str | Path, requested: str | None = None) -> tuple[str | None, CheckSet | None]:
    """(ref, check set) a model is scored with: the one saved with it, verified unchanged.

    `requested` (a scorer config's `checks`) must name that same set; a model saved without
    checks scores without them. Any difference is a CheckSetMismatch naming both sides."""
    path = Path(local_model_dir(model_dir), CHECKS_FILE)
    saved = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    saved_ref = saved["ref"] if saved else None
    if requested and requested != saved_ref:
        raise CheckSetMismatch(
            f"checks: {model_dir} was trained {'with ' + saved_ref if saved_ref else 'without checks'}, "
            f"not with {requested}; remove scorer.checks (the model's own set is used) or retrain")
    if saved is None:
        return None, None
    checks = load_check_set(saved_ref)
    now = identity(checks, saved_ref)
    for key in ("name", "version"):
        if now[key] != saved[key]:
            raise CheckSetMismatch(f"checks: {model_dir} was trained with {saved_ref} {key} {saved[key]!r}, "
                                   f"installed is {now[key]!r}; retrain or install the matching version")
    changed = [t for t, obs in saved["examples"].items() if now["examples"].get(t, _render_one(checks, t)) != obs]
    if changed:
        raise CheckSetMismatch(
            f"checks: {saved_ref} renders its observations differently from when {model_dir} was trained "
            f"(e.g. {changed[0]!r} gave {saved['examples'][changed[0]]!r}, now "
            f"{_render_one(checks, changed[0])!r}); retrain, or bump the check set's version")
    return saved_ref, checks


def _render_one(checks: CheckSet, text: str) -> str:
    return checks.run([text])[0].observation
