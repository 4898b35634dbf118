"""audit's Label Studio round trip against a real Label Studio (tests/labelstudio_server.py):
rayscore's batch (tasks.json, labeling_config.xml) -> a project on a real server (SQLite, loopback)
-> a person's answers through the REST API (chosen, changed, skipped, left alone) -> Label
Studio's JSON export -> rayscore's import, and the same file imported again.

    .venv/bin/python -m pytest -n 0 -q tests/integration/test_labelstudio_roundtrip.py

Label Studio runs from a venv of its own (it pins pyarrow < 25): LABEL_STUDIO_VENV names a ready
one, else it is built once under $RAYSCORE_TEST_CACHE (or the run's temp dir), about 15 seconds with uv.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelstudio_server import LABEL_STUDIO_VERSION, LabelStudioServer, labelstudio_venv
from rayscore.addresses.records import generate_records
from rayscore.audit.config import AuditJobConfig, PickSpec
from rayscore.audit.importing import utc_seconds
from rayscore.audit.job import run
from rayscore.audit.labelstudio import read_export
from rayscore.audit.store import LabelStore
from rayscore.data.pairs import CORRECT, LABELS, WRONG

pytestmark = pytest.mark.slow

FINGERPRINT = "fp-labelstudio-test"


@pytest.fixture(scope="session")
def label_studio_venv(tmp_path_factory) -> Path:
    """A venv with label-studio, built at most once per run (all xdist workers share it)."""
    cache = os.environ.get("RAYSCORE_TEST_CACHE")
    if not cache:
        base = tmp_path_factory.getbasetemp()
        cache = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    venv, build_s = labelstudio_venv(cache)
    print(f"label-studio venv {venv}: {f'built in {build_s:.0f} s' if build_s else 'reused'}")
    return venv


@pytest.fixture(scope="module")
def label_studio(label_studio_venv, tmp_path_factory):
    server = LabelStudioServer(label_studio_venv, tmp_path_factory.mktemp("label-studio"))
    server.start()
    print(f"label-studio {server.url}: up in {server.startup_s:.1f} s")
    try:
        yield server
    finally:
        server.stop()


def write_scored(root: Path) -> None:
    """A quality scorer's output (what audit's pick reads) for 8 generated address records."""
    records = generate_records(8, seed=5)
    p = [0.55, 0.31, 0.93, 0.08, 0.47, 0.89, 0.99, 0.01]
    labels = ["待审", "待审", "正确", "错误", "待审", "待审", "正确", "错误"]
    root.mkdir(parents=True)
    pq.write_table(pa.table({"record_id": records["record_id"].tolist(), "text": records["text"].tolist(),
                             "p_correct": p, "label": labels, "decided_by": ["model"] * 8,
                             "check_flags": pa.array([["admin_unknown"]] + [[]] * 7, pa.list_(pa.string())),
                             "fingerprint": [FINGERPRINT] * 8}), root / "part-00000-fp.parquet")
    (root / "summary.json").write_text(json.dumps(
        {"kind": "quality", "outcomes": {"operating_points": {"accept_at": 0.9, "reject_below": 0.1}}}))


def choice(label: str) -> list[dict]:
    """A Choices result as Label Studio's editor submits it for labeling_config.xml."""
    return [{"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


def ok(response, status: int = 200):
    assert response.status_code == status, f"{response.request.method} {response.url}: {response.status_code} " \
                                           f"{response.text[:1000]}"
    return response.json() if response.content else None


def test_tasks_to_label_studio_and_its_export_back(label_studio, tmp_path):
    started = time.monotonic()
    try:
        picked, stored, unanswered = roundtrip(label_studio, tmp_path)
    except BaseException:
        print(f"--- {label_studio.log_path} (tail) ---\n{label_studio.log_tail()}")  # shown on failure only
        raise
    # nothing lost: every exported row came back labelled or is listed as unanswered, never both
    assert stored | unanswered == picked and not stored & unanswered and len(stored) == 4
    print(f"label-studio {LABEL_STUDIO_VERSION}: round trip in {time.monotonic() - started:.1f} s "
          f"(server up in {label_studio.startup_s:.1f} s)")


def roundtrip(ls: LabelStudioServer, tmp_path: Path) -> tuple[set, set, set]:
    """The round trip, asserting each step; (exported ids, stored ids, ids listed as unanswered)."""
    api, url = ls.api, ls.url
    assert ls.version() == LABEL_STUDIO_VERSION

    # rayscore: a batch to label
    write_scored(tmp_path / "scored")
    audit = tmp_path / "audit"
    pick = run(AuditJobConfig(output_dir=str(audit), scored=str(tmp_path / "scored"),
                              pick=PickSpec(strategy="uncertain", budget=6, dedupe="none")))
    batch = Path(pick.data["files"]["tasks.json"]).parent
    picked = pd.read_parquet(batch / "picked.parquet").set_index("record_id")
    assert len(picked) == 6

    # Label Studio: a project with the batch's labeling config, its tasks.json imported as is
    project = ok(api.post(f"{url}/api/projects", json={
        "title": batch.name, "label_config": (batch / "labeling_config.xml").read_text(encoding="utf-8")}), 201)
    assert project["parsed_label_config"]["label"]["labels"] == list(LABELS)
    pid = project["id"]
    imported = ok(api.post(f"{url}/api/projects/{pid}/import", data=(batch / "tasks.json").read_bytes(),
                           headers={"Content-Type": "application/json"}), 201)
    assert (imported["task_count"], imported["prediction_count"]) == (6, 6), imported
    listed = ok(api.get(f"{url}/api/tasks", params={"project": pid, "page_size": 100}))["tasks"]
    ls_id = {t["data"]["id"]: t["id"] for t in listed}
    assert sorted(ls_id) == sorted(picked.index)

    # the model's answer reaches Label Studio as the prediction it pre-selects for the person
    assert ok(api.get(f"{url}/api/projects/{pid}"))["model_version"] == FINGERPRINT
    predicted = {}
    for record_id, task_id in ls_id.items():
        task = ok(api.get(f"{url}/api/tasks/{task_id}"))
        row = picked.loc[record_id]
        assert task["data"] == {"id": record_id, "text": row["text"]}
        assert task["meta"]["model_label"] == row["model_label"] and task["meta"]["why"] == row["why"]
        assert task["meta"]["check_flags"] == list(row["check_flags"])
        (prediction,) = task["predictions"]
        assert prediction["model_version"] == FINGERPRINT
        assert prediction["score"] == pytest.approx(round(row["p_correct"], 4))
        (result,) = prediction["result"]
        expected = row["model_label"] if row["model_label"] in LABELS else (
            CORRECT if row["p_correct"] >= 0.5 else WRONG)
        assert (result["from_name"], result["to_name"], result["type"]) == ("label", "text", "choices")
        assert result["value"]["choices"] == [expected]
        predicted[record_id] = expected

    # a person labels: accepts a prediction, changes one, skips a task, leaves one alone; a
    # second person's answers are posted on their behalf (completed_by), as the API allows
    other = ok(api.post(f"{url}/api/users", json={"email": "wang@example.com", "username": "wang"}), 201)["id"]
    order = list(ls_id)
    flip = {CORRECT: WRONG, WRONG: CORRECT}
    posted = {order[0]: (predicted[order[0]], ls.user_id), order[1]: (flip[predicted[order[1]]], ls.user_id),
              order[2]: (CORRECT, other), order[3]: (WRONG, other)}
    skipped, untouched = order[4], order[5]
    for record_id, (label, who) in posted.items():
        body = {"result": choice(label), "lead_time": 4.2, "was_cancelled": False}
        if who != ls.user_id:
            body["completed_by"] = who
        annotation = ok(api.post(f"{url}/api/tasks/{ls_id[record_id]}/annotations", json=body), 201)
        assert annotation["completed_by"] == who and annotation["result"] == choice(label)
    ok(api.post(f"{url}/api/tasks/{ls_id[skipped]}/annotations", json={"result": [], "was_cancelled": True}), 201)

    # Label Studio's JSON export (the Export button's), saved as downloaded under its own name
    response = api.get(f"{url}/api/projects/{pid}/export", params={"exportType": "JSON"})
    ok(response)
    name = re.search(r'filename="?([^";]+)"?', response.headers["Content-Disposition"]).group(1)
    assert name.endswith(".json"), name
    export_path = tmp_path / "downloads" / name
    export_path.parent.mkdir()
    export_path.write_bytes(response.content)
    exported = json.loads(response.content)
    # only tasks with an annotation (a skipped one included) are exported by default
    assert sorted(t["data"]["id"] for t in exported) == sorted([*posted, skipped])
    annotations = {t["data"]["id"]: t["annotations"] for t in exported}
    assert [a["was_cancelled"] for a in annotations[skipped]] == [True]
    when = {}
    for record_id, (label, who) in posted.items():
        (a,) = annotations[record_id]
        assert a["completed_by"] == who  # the user's id: an int in 1.23's export
        assert a["result"] == choice(label) and not a["was_cancelled"]
        when[record_id] = a["updated_at"]

    # rayscore imports it
    report = run(AuditJobConfig(output_dir=str(audit), step="import", labelled=str(export_path))).data
    assert report["ok"] and report["batch"] == batch.name
    assert report["rows"] == {"labelled_now": 4, "labelled_before": 0, "unanswered": 2}
    assert report["imported"] == 4 and report["cancelled_annotations"] == 1
    assert sorted(report["unanswered"]) == sorted([skipped, untouched])
    store = LabelStore(audit / "labels")
    stored = store.read().set_index("record_id")
    assert stored.index.is_unique and sorted(stored.index) == sorted(posted)
    # every exported row: imported with exactly the posted label, or listed as unanswered
    assert set(stored.index) | set(report["unanswered"]) == set(picked.index)
    assert not set(stored.index) & set(report["unanswered"])
    for record_id, (label, who) in posted.items():
        row = stored.loc[record_id]
        assert row["label"] == label, record_id
        assert row["who"] == f"user {who}", record_id  # from completed_by
        assert row["when"] == utc_seconds(when[record_id]) and row["when"].endswith("+00:00")  # one format
        assert row["text"] == picked.loc[record_id, "text"]
        assert (row["export_batch"], row["source_file"]) == (batch.name, str(export_path))
    assert report["labels"] == pd.Series([label for label, _ in posted.values()]).value_counts().to_dict()

    # the same file again: nothing changes
    parts = {p.name: p.read_bytes() for p in store.parts()}
    again = run(AuditJobConfig(output_dir=str(audit), step="import", labelled=str(export_path))).data
    assert again["ok"] and again["imported"] == 0
    assert again["already_imported"] == str(store.parts()[0])
    assert {p.name: p.read_bytes() for p in store.parts()} == parts
    pd.testing.assert_frame_equal(store.read().set_index("record_id"), stored)
    assert len(list((audit / "imports").glob("*.json"))) == 2  # the first import's report and the repeat's

    # the export snapshot API can write users in full ({id, email, ...}): who is then the email
    snapshot = ok(api.post(f"{url}/api/projects/{pid}/exports", json={
        "serialization_options": {"annotations__completed_by": {"only_id": False}}}), 201)
    deadline = time.monotonic() + 60
    while snapshot["status"] != "completed":
        assert snapshot["status"] in ("created", "in_progress") and time.monotonic() < deadline, snapshot["status"]
        time.sleep(0.2)
        snapshot = ok(api.get(f"{url}/api/projects/{pid}/exports/{snapshot['id']}"))
    full = ok(api.get(f"{url}/api/projects/{pid}/exports/{snapshot['id']}/download", params={"exportType": "JSON"}))
    (tmp_path / "full.json").write_text(json.dumps(full, ensure_ascii=False), encoding="utf-8")
    parsed = read_export(tmp_path / "full.json")
    assert not parsed.problems and parsed.cancelled == 1
    emails = {ls.user_id: ls.email, other: "wang@example.com"}
    assert {a.record_id: (a.label, a.who) for a in parsed.answers} == {
        record_id: (label, emails[who]) for record_id, (label, who) in posted.items()}
    return set(picked.index), set(stored.index), set(report["unanswered"])
