"""audit's export and import: Label Studio tasks and export, the CSV, validation, the append-only store.

    .venv/bin/python -m pytest -n 0 -q tests/unit/test_audit_import.py
"""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from test_audit_pick import ROWS, write_scored

from rayscore.audit.config import AuditJobConfig, PickSpec
from rayscore.audit.job import run
from rayscore.audit.store import LabelStore
from rayscore.config import ConfigError, parse_config
from rayscore.score.inputs import InputError


def audit(tmp_path, **kw):
    cfg = AuditJobConfig(output_dir=str(tmp_path / "audit"), scored=str(tmp_path / "scored"), **kw)
    return run(cfg)


@pytest.fixture
def batch(tmp_path):
    write_scored(tmp_path / "scored", ROWS)
    summary = audit(tmp_path, pick=PickSpec(strategy="uncertain", budget=5, dedupe="none", explore=0.0))
    return tmp_path / "audit" / "batches" / summary.data["batch"]


def annotate(tasks: list[dict], answers: dict[int, list], start_id=100) -> list[dict]:
    """Tasks as Label Studio exports them after people labelled them: its own ids, annotations."""
    out = []
    for n, t in enumerate(tasks):
        anns = [{"id": n * 10 + k, "completed_by": who, "created_at": "2026-12-07T10:00:00Z",
                 "was_cancelled": cancelled,
                 "result": [] if cancelled else [{"from_name": "label", "to_name": "text", "type": "choices",
                                                  "value": {"choices": [label]}}]}
                for k, (label, who, cancelled) in enumerate(answers.get(n, []))]
        out.append({"id": start_id + n, "data": t["data"], "annotations": anns, "predictions": t["predictions"]})
    return out


def write_export(path, tasks):
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    return path


def test_export_writes_label_studio_tasks_config_and_csv(batch):
    tasks = json.loads((batch / "tasks.json").read_text(encoding="utf-8"))
    assert [t["data"]["id"] for t in tasks] == ["r000", "r001", "r002", "r007", "r004"]
    first = tasks[0]
    assert first["data"] == {"id": "r000", "text": ROWS[0]["text"]}
    prediction = first["predictions"][0]
    assert prediction["model_version"] == "fp1" and prediction["score"] == 0.55
    # 待审 is no choice: the prediction is the likelier answer
    assert prediction["result"] == [{"from_name": "label", "to_name": "text", "type": "choices",
                                     "value": {"choices": ["正确"]}}]
    assert tasks[1]["predictions"][0]["result"][0]["value"]["choices"] == ["错误"]
    assert tasks[4]["meta"]["check_flags"] == ["admin_unknown"] and tasks[0]["meta"]["why"] == "待审, p_correct 0.55"
    xml = (batch / "labeling_config.xml").read_text(encoding="utf-8")
    assert '<Choices name="label" toName="text"' in xml
    assert '<Choice value="正确"/>' in xml and '<Choice value="错误"/>' in xml
    raw = (batch / "tasks.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese as such
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert list(rows[0]) == ["id", "text", "model_label", "p_correct", "check_flags", "why", "label", "who", "note"]
    assert rows[4]["check_flags"] == "admin_unknown" and rows[0]["label"] == ""


def test_label_studio_round_trip_accounts_for_every_exported_row(tmp_path, batch):
    tasks = json.loads((batch / "tasks.json").read_text(encoding="utf-8"))
    export = write_export(tmp_path / "export.json", annotate(tasks, {
        0: [("正确", 1, False)], 1: [("错误", 1, False), ("错误", {"id": 2, "email": "b@x.cn"}, False)],
        2: [("正确", 2, True)], 3: [("错误", 1, False)]}))
    report = audit(tmp_path, step="import", labelled=str(export)).data
    assert report["imported"] == 4 and report["cancelled_annotations"] == 1
    assert report["rows"] == {"labelled_now": 3, "labelled_before": 0, "unanswered": 2}
    assert report["unanswered"] == ["r002", "r004"]
    stored = LabelStore(tmp_path / "audit" / "labels").read()
    assert sorted(zip(stored["record_id"], stored["label"], stored["who"])) == [
        ("r000", "正确", "user 1"), ("r001", "错误", "b@x.cn"), ("r001", "错误", "user 1"), ("r007", "错误", "user 1")]
    assert set(stored["text"]) <= {r["text"] for r in ROWS} and set(stored["export_batch"]) == {batch.name}
    assert (tmp_path / "audit" / "imports" / f"{report['import_batch']}.json").exists()


def test_csv_round_trip_and_a_later_import_of_the_rest(tmp_path, batch):
    path = tmp_path / "filled.csv"
    rows = list(csv.DictReader((batch / "tasks.csv").read_text(encoding="utf-8-sig").splitlines()))
    rows[0]["label"], rows[2]["label"], rows[2]["who"], rows[2]["note"] = "正确", " 错误 ", "李审", "门牌不存在"
    with path.open("w", encoding="utf-8", newline="") as fh:  # saved without the BOM: read all the same
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    report = audit(tmp_path, step="import", labelled=str(path), who="王审").data
    assert report["rows"] == {"labelled_now": 2, "labelled_before": 0, "unanswered": 3}
    stored = LabelStore(tmp_path / "audit" / "labels").read().set_index("record_id")
    assert stored.loc["r000", "who"] == "王审" and stored.loc["r002", "label"] == "错误"
    assert stored.loc["r002", "note"] == "门牌不存在"
    for r in rows:
        r["label"] = r["label"] or "错误"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    report = audit(tmp_path, step="import", labelled=str(path), who="王审").data
    assert report["rows"] == {"labelled_now": 3, "labelled_before": 2, "unanswered": 0}
    assert report["already_stored_answers"] == 2 and report["imported"] == 3


def test_import_is_append_only_and_idempotent(tmp_path, batch):
    tasks = json.loads((batch / "tasks.json").read_text(encoding="utf-8"))
    first = write_export(tmp_path / "e1.json", annotate(tasks, {0: [("正确", 1, False)]}))
    audit(tmp_path, step="import", labelled=str(first))
    store = LabelStore(tmp_path / "audit" / "labels")
    (part,) = store.parts()
    before = part.read_bytes(), part.stat().st_mtime_ns
    again = audit(tmp_path, step="import", labelled=str(first)).data
    assert again["already_imported"] == str(part) and again["imported"] == 0
    assert store.parts() == [part]
    # Label Studio exports every annotation again: the old one is recognised, only the new one is added
    second = write_export(tmp_path / "e2.json", annotate(tasks, {0: [("正确", 1, False)], 3: [("错误", 1, False)]}))
    report = audit(tmp_path, step="import", labelled=str(second)).data
    assert report["imported"] == 1 and report["already_stored_answers"] == 1
    assert len(store.parts()) == 2 and (part.read_bytes(), part.stat().st_mtime_ns) == before
    assert len(store.read()) == 2
    with pytest.raises(FileExistsError, match="append-only"):
        store.append(store.read(), part.stem.removeprefix("part-"))


def test_every_validation_problem_is_named_with_file_and_row_and_nothing_is_imported(tmp_path, batch):
    tasks = json.loads((batch / "tasks.json").read_text(encoding="utf-8"))
    bad = annotate(tasks, {0: [("正确", 1, False), ("错误", 2, False)],   # conflict within the file
                           1: [("对", 1, False)],                           # not a label
                           2: [("正确", 1, True)]})                         # cancelled: fine, counted
    bad.append({"id": 999, "data": {"id": "zzz", "text": "?"}, "annotations": []})   # unknown id
    bad.append({"id": 1000, "data": {"text": "no id"}, "annotations": []})
    export = write_export(tmp_path / "bad.json", bad)
    with pytest.raises(InputError) as caught:
        audit(tmp_path, step="import", labelled=str(export))
    message = str(caught.value)
    assert "4 problem(s), nothing imported" in message
    assert "bad.json task 6 (Label Studio id 999): unknown id 'zzz' (not exported in this batch)" in message
    assert "bad.json task 7 (Label Studio id 1000): data.id is missing" in message
    assert "bad.json task 2 (Label Studio id 101) annotation 1: label '对' is not 正确 or 错误 (id r001)" in message
    assert ("bad.json task 1 (Label Studio id 100) annotation 2: conflict: id r000 labelled 错误 here and 正确 at "
            "bad.json task 1 (Label Studio id 100) annotation 1") in message
    assert LabelStore(tmp_path / "audit" / "labels").parts() == []


def test_a_conflict_with_the_store_is_named(tmp_path, batch):
    tasks = json.loads((batch / "tasks.json").read_text(encoding="utf-8"))
    first = write_export(tmp_path / "a.json", annotate(tasks, {0: [("正确", 1, False)]}))
    audit(tmp_path, step="import", labelled=str(first))
    later = write_export(tmp_path / "b.json", annotate(tasks, {0: [("错误", 3, False)]}))
    with pytest.raises(InputError, match=r"b.json task 1 \(Label Studio id 100\) annotation 1: conflict: id r000 "
                                         r"labelled 错误 here and 正确 in the store \(import 00001-"):
        audit(tmp_path, step="import", labelled=str(later))


def test_csv_problems_name_the_spreadsheet_row(tmp_path, batch):
    path = tmp_path / "t.csv"
    path.write_text("id,text,label\nr000,x,正确\n,x,错误\nr001,x,wrong\nq9,x,\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        audit(tmp_path, step="import", labelled=str(path))
    assert str(caught.value).splitlines()[1:] == [
        "t.csv row 3: id is empty",
        "t.csv row 5: unknown id 'q9' (not exported in this batch)",
        "t.csv row 4: label 'wrong' is not 正确 or 错误 (id r001)"]
    path.write_bytes("id,label\nr000,正确\n".encode("gbk"))
    with pytest.raises(InputError, match="t.csv: not UTF-8 .*save it as 'CSV UTF-8'"):
        audit(tmp_path, step="import", labelled=str(path))
    path.write_text("record,answer\nr000,正确\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"t.csv: header lacks column\(s\) \['id', 'label'\]"):
        audit(tmp_path, step="import", labelled=str(path))
    path.write_text('{"not": "a list"}', encoding="utf-8")
    path = path.rename(tmp_path / "t.json")
    with pytest.raises(InputError, match="t.json: expected a list of tasks"):
        audit(tmp_path, step="import", labelled=str(path))


def test_picking_again_never_repeats_an_exported_row_nor_overwrites_a_batch(tmp_path, batch):
    second = audit(tmp_path, pick=PickSpec(strategy="uncertain", budget=3, dedupe="none")).data
    assert second["batch"] == "batch-0002"
    picked = pd.read_parquet(tmp_path / "audit" / "batches" / "batch-0002" / "picked.parquet")
    assert picked["record_id"].tolist() == ["r003", "r006", "r005"]
    with pytest.raises(InputError, match="batch-0001 exists"):
        audit(tmp_path, batch="batch-0001")


def test_config_problems():
    with pytest.raises(ConfigError) as caught:
        parse_config(AuditJobConfig, [({"step": "import", "labelled": "x.xlsx", "pick": {"budget": 0}}, "t.yaml")])
    text = str(caught.value)
    assert "labelled (from t.yaml): x.xlsx is neither .json" in text
    assert "pick.budget (from t.yaml): must be >= 1" in text
    with pytest.raises(ConfigError, match="scored: required for step pick"):
        parse_config(AuditJobConfig, [({}, "t.yaml")])


def test_times_are_stored_in_one_format():
    from rayscore.audit.importing import utc_seconds

    assert utc_seconds("2026-12-07T14:24:40.953351Z") == "2026-12-07T14:24:40+00:00"     # Label Studio
    assert utc_seconds("2026-12-07T22:24:40+08:00") == "2026-12-07T14:24:40+00:00"
    assert utc_seconds("2026-12-07") == "2026-12-07T00:00:00+00:00"                      # a spreadsheet's date
    assert utc_seconds("上周三") == "上周三" and utc_seconds("") == ""                      # kept as written
