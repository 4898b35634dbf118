"""Judge prompt templates: plain text files with {placeholders} and optional sections.

    template = load_template("pairwise_zh")        # configs/judge/templates/pairwise_zh.txt
    prompt = render(template, question=q, answer_1=a, answer_2=b, reference=None)

The scheme, small on purpose:
- `{name}` is a placeholder (a name of letters, digits and `_`). Every placeholder outside an
  optional section must be given a non-None value, else TemplateError names it.
- `{#name}...{/name}` is an optional section: kept (and rendered) only when `name` is given as a
  non-empty value, dropped with its text otherwise. This is how a reference answer is optional:
  `{#reference}参考答案：{reference}{/reference}`. A mark alone on its line vanishes with
  its line break, so a section can be written as a block of lines.
- Any other brace is literal text (`{"score": 8}` in an example needs no escaping).
- Values are inserted as they are: a value containing `{answer}` is never expanded again.
Fields given but not used by the template are ignored, so one call site can feed several
templates. Pointwise templates use question, answer, reference, rubric; pairwise templates use
question, answer_1, answer_2, reference.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["TemplateError", "render", "load_template", "placeholders", "required_fields",
           "template_dirs", "POINTWISE_FIELDS", "PAIRWISE_FIELDS"]

POINTWISE_FIELDS = ("question", "answer", "reference", "rubric")
PAIRWISE_FIELDS = ("question", "answer_1", "answer_2", "reference")

# A mark on its own line takes its line break with it, so sections can be written as blocks.
_SECTION = re.compile(r"\{#(\w+)\}\n?(.*?)\{/\1\}\n?", re.DOTALL)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_STRAY_SECTION_MARK = re.compile(r"\{[#/](\w+)\}")


class TemplateError(ValueError):
    """A template that cannot be rendered: a missing field or a broken section."""


def render(template: str, **fields: object) -> str:
    """The template with its sections resolved and its placeholders filled from `fields`."""
    stray = _STRAY_SECTION_MARK.search(_SECTION.sub("", template))
    if stray:
        raise TemplateError(f"unmatched section mark {stray.group(0)!r}: open with {{#{stray.group(1)}}} "
                            f"and close with {{/{stray.group(1)}}}")
    body = template
    while _SECTION.search(body):  # nested sections resolve from the outside in
        body = _SECTION.sub(lambda m: m.group(2) if _given(fields.get(m.group(1))) else "", body)
    missing = sorted({name for name in _PLACEHOLDER.findall(body) if fields.get(name) is None})
    if missing:
        given = ", ".join(sorted(k for k, v in fields.items() if v is not None)) or "nothing"
        raise TemplateError(f"template needs {', '.join('{' + m + '}' for m in missing)} "
                            f"but it was not given (given: {given})")
    return _PLACEHOLDER.sub(lambda m: str(fields[m.group(1)]), body)


def placeholders(template: str) -> set[str]:
    """Every field the template can use, inside optional sections or not."""
    return set(_PLACEHOLDER.findall(template)) | {m.group(1) for m in _SECTION.finditer(template)}


def required_fields(template: str) -> set[str]:
    """Fields that must be given: placeholders outside optional sections."""
    return set(_PLACEHOLDER.findall(_SECTION.sub("", template)))


def template_dirs() -> list[Path]:
    """Where load_template looks for `<name>.txt`: ./configs/judge/templates, then the shipped ones."""
    from rayscore.shipped import shipped_configs

    return [Path.cwd() / "configs" / "judge" / "templates", shipped_configs() / "judge" / "templates"]


def load_template(name_or_path: str | Path) -> str:
    """A template's text, from a file path or a shipped name such as "rubric_zh"."""
    path = Path(name_or_path)
    if path.suffix and path.is_file():
        return path.read_text(encoding="utf-8")
    for directory in template_dirs():
        candidate = directory / f"{path.name}.txt" if not path.suffix else directory / path.name
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    shipped = sorted({p.stem for d in template_dirs() if d.is_dir() for p in d.glob("*.txt")})
    raise TemplateError(f"template {str(name_or_path)!r} not found: give a file path or one of "
                        f"{', '.join(shipped) or '(none found)'}")


def _given(value: object) -> bool:
    return value is not None and str(value).strip() != ""
