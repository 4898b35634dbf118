"""Label Studio: the tasks to import into a project, its labeling config, and reading its JSON export.

    write_tasks(picked, "batches/b1/tasks.json")        # + labeling_config.xml beside it
    parsed = read_export("project-1-at-2026-12-07.json")  # Parsed: answers, cancelled, present, problems

A task is {data: {id, text}, predictions: [...], meta: {check_flags, why}}: the record id travels
in data.id (Label Studio gives tasks ids of its own), and the model's label is a prediction, shown
as a pre-annotation the person accepts or changes. A 待审 row has no automatic label: its
prediction is the likelier of 正确 / 错误 (p_correct >= 0.5), with the score beside it.

The export read is Label Studio's JSON export: a list of tasks, each with id, data and
annotations [{completed_by, created_at, result: [{from_name, to_name, type: "choices", value:
{choices: [...]}}], was_cancelled}]. A cancelled (skipped) annotation is ignored and counted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from rayscore.audit.answers import Answer, Parsed
from rayscore.data.pairs import CORRECT, LABELS, WRONG
from rayscore.io import is_missing

FROM_NAME, TO_NAME = "label", "text"
CONFIG_FILE = "labeling_config.xml"

LABELING_CONFIG = f"""<View>
  <Header value="$id"/>
  <Text name="{TO_NAME}" value="$text"/>
  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="single" showInline="true" required="true">
    <Choice value="{CORRECT}"/>
    <Choice value="{WRONG}"/>
  </Choices>
</View>
"""


def task(row: dict) -> dict:
    p = float(row["p_correct"])
    choice = row["model_label"] if row["model_label"] in LABELS else (CORRECT if p >= 0.5 else WRONG)
    return {
        "data": {"id": row["record_id"], "text": row["text"]},
        "predictions": [{
            "model_version": str(row.get("fingerprint") or "unknown"),
            "score": round(p, 4),
            "result": [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices",
                        "value": {"choices": [choice]}}],
        }],
        "meta": {"check_flags": list(row["check_flags"]), "why": row["why"], "model_label": row["model_label"]},
    }


def write_tasks(picked: pd.DataFrame, path: str | Path) -> Path:
    """tasks.json (import it into a project) and labeling_config.xml beside it (the project's config)."""
    path = Path(path)
    path.write_text(json.dumps([task(r) for r in picked.to_dict("records")], ensure_ascii=False, indent=1),
                    encoding="utf-8")
    (path.parent / CONFIG_FILE).write_text(LABELING_CONFIG, encoding="utf-8")
    return path


def read_export(path: str | Path) -> Parsed:
    path = Path(path)
    name = path.name
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return Parsed(problems=[f"{name}: not a Label Studio JSON export ({e})"])
    if not isinstance(tasks, list):
        return Parsed(problems=[f"{name}: expected a list of tasks (Label Studio's JSON export), got "
                                f"{type(tasks).__name__}"])
    parsed = Parsed()
    for n, item in enumerate(tasks, 1):
        where = f"{name} task {n}"
        if not isinstance(item, dict) or not isinstance(item.get("data"), dict):
            parsed.problems.append(f"{where}: not a task with data")
            continue
        if "id" in item:
            where += f" (Label Studio id {item['id']})"
        record_id = item["data"].get("id")
        if is_missing(record_id) or record_id == "":
            parsed.problems.append(f"{where}: data.id is missing (the record id exported in tasks.json)")
            continue
        record_id = str(record_id)
        parsed.present.append((record_id, where))
        for m, annotation in enumerate(item.get("annotations") or [], 1):
            here = f"{where} annotation {m}"
            if not isinstance(annotation, dict):
                parsed.problems.append(f"{here}: not an annotation object")
                continue
            if annotation.get("was_cancelled"):
                parsed.cancelled += 1
                continue
            choices, note = _read_result(annotation.get("result") or [])
            if len(choices) != 1:
                parsed.problems.append(f"{here}: expected one choice of {'/'.join(LABELS)}, got {choices}")
                continue
            parsed.answers.append(Answer(record_id, str(choices[0]).strip(), _who(annotation.get("completed_by")),
                                         str(annotation.get("updated_at") or annotation.get("created_at") or ""),
                                         note, here))
    return parsed


def _read_result(result: list) -> tuple[list, str]:
    choices, notes = [], []
    for item in result:
        if not isinstance(item, dict):
            continue
        value = item.get("value") or {}
        if item.get("type") == "choices":
            choices += list(value.get("choices") or [])
        elif item.get("type") == "textarea":
            notes += [str(t) for t in value.get("text") or []]
    return choices, " ".join(notes)


def _who(completed_by) -> str:
    """Label Studio writes the user's id, or in some versions an object with id and email."""
    if isinstance(completed_by, dict):
        return str(completed_by.get("email") or completed_by.get("id") or "")
    if completed_by is None:
        return ""
    return f"user {completed_by}" if isinstance(completed_by, int) else str(completed_by)
