"""The generic check seam: loading a check set, observations in the text, the copy saved with a
model and the refusal of any other set.

Run as:
  python -m pytest tests/unit/test_checks.py -q
"""

import json

import pytest

import check_sets
from rayscore.checks import (
    CHECKS_FILE,
    CheckSetMismatch,
    load_check_set,
    observe,
    observe_conversations,
    resolve_check_set,
    save_check_set,
    saved_check_ref,
)

REF = "check_sets:LENGTH_CHECKS"


def test_load_check_set_by_reference():
    assert load_check_set(REF) is check_sets.LENGTH_CHECKS


@pytest.mark.parametrize("ref, message", [
    ("check_sets.LENGTH_CHECKS", "module:attribute"),
    ("no_such_module_xyz:CHECKS", "cannot import"),
    ("check_sets:MISSING", "no check set named 'MISSING'"),
    ("check_sets:REF_THAT_IS_NOT_THERE", "no check set"),
])
def test_bad_references_are_named(ref, message):
    with pytest.raises(ValueError, match=message):
        load_check_set(ref)


def test_observe_appends_the_rendering_and_returns_flags():
    texts, flags = observe(check_sets.LENGTH_CHECKS, ["short", "a text that is far too long 1"])
    assert texts == ["short [长度:好]", "a text that is far too long 1 [长度:超]"]
    assert flags == [(), ("too_long", "has_digit")]


def test_observe_without_checks_changes_nothing():
    texts, flags = observe(None, ["a", "b"])
    assert texts == ["a", "b"] and flags == [(), ()]


def test_observe_conversations_touches_only_the_last_user_turn():
    conversation = [{"role": "system", "content": "s"}, {"role": "user", "content": "first"},
                    {"role": "assistant", "content": "reply"}, {"role": "user", "content": "second 2"},
                    {"role": "assistant", "content": "正确"}]
    [out], [flags] = observe_conversations(check_sets.LENGTH_CHECKS, [conversation])
    assert [m["content"] for m in out] == ["s", "first", "reply", "second 2 [长度:好]", "正确"]
    assert flags == ("has_digit",)
    assert conversation[3]["content"] == "second 2"  # the input is not modified


def test_a_conversation_without_a_user_turn_is_left_alone():
    answer_only = [{"role": "assistant", "content": "a text that is far too long"}]
    out, flags = observe_conversations(check_sets.LENGTH_CHECKS, [answer_only, [{"role": "user", "content": "x1"}]])
    assert out[0] == answer_only and flags[0] == ()
    assert out[1][0]["content"] == "x1 [长度:好]" and flags[1] == ("has_digit",)


def test_saved_check_set_is_resolved_and_recorded(tmp_path):
    save_check_set(REF, tmp_path)
    saved = json.loads((tmp_path / CHECKS_FILE).read_text(encoding="utf-8"))
    assert saved["ref"] == REF and saved["version"] == "1" and saved["flags"] == ["too_long", "has_digit"]
    assert saved["examples"]["x1"] == "[长度:好]"
    assert saved_check_ref(tmp_path) == REF
    ref, checks = resolve_check_set(tmp_path)
    assert ref == REF and checks is check_sets.LENGTH_CHECKS
    assert resolve_check_set(tmp_path, REF)[0] == REF


def test_no_checks_saved_means_none(tmp_path):
    save_check_set(None, tmp_path)
    assert not (tmp_path / CHECKS_FILE).exists()
    assert resolve_check_set(tmp_path) == (None, None)


def test_another_check_set_is_refused(tmp_path):
    save_check_set(REF, tmp_path)
    with pytest.raises(CheckSetMismatch, match="trained with check_sets:LENGTH_CHECKS, not with check_sets:OTHER"):
        resolve_check_set(tmp_path, "check_sets:OTHER_CHECKS")


def test_checks_asked_of_a_model_without_them_are_refused(tmp_path):
    with pytest.raises(CheckSetMismatch, match="trained without checks"):
        resolve_check_set(tmp_path, REF)


def test_a_new_version_is_refused(tmp_path, monkeypatch):
    save_check_set(REF, tmp_path)
    monkeypatch.setattr(check_sets.LENGTH_CHECKS, "version", "2")
    with pytest.raises(CheckSetMismatch, match="version '1', installed is '2'"):
        resolve_check_set(tmp_path)


def test_a_changed_rendering_is_refused(tmp_path, monkeypatch):
    save_check_set(REF, tmp_path)
    monkeypatch.setattr(check_sets.LENGTH_CHECKS, "wording", "长")
    with pytest.raises(CheckSetMismatch, match="renders its observations differently"):
        resolve_check_set(tmp_path)
