"""The shipped real addresses: a split that never changes, a measurement part nothing trains on,
and records wrapped so that only their address can be wrong."""

import random

import pandas as pd
import pytest

from rayscore.addresses.checks import ADDRESS_CHECKS
from rayscore.addresses.numbering import POSTCODE_PREFIX_PROVINCES
from rayscore.addresses.real import CORPORA, part_of, real_addresses
from rayscore.addresses.real_measure import measurement_records, province_of, real_report, wrap


@pytest.mark.parametrize("corpus", CORPORA)
def test_the_parts_split_each_corpus_and_share_nothing(corpus):
    train, measure = real_addresses(corpus, "train"), real_addresses(corpus, "measure")
    assert len(train) > 4000 and len(measure) > 4000
    assert not set(train) & set(measure)
    assert all(part_of(a) == "measure" for a in measure[:500])
    # Near-repeats that start alike fall in one part (上海市浦东新区长柳路58号 and …58号XX大厦).
    assert part_of("上海市浦东新区长柳路58号") == part_of("上海市浦东新区长柳路58号金桥大厦")


def test_the_split_is_a_stable_hash_not_pythons_salted_one():
    assert [part_of(a) for a in ("北京市海淀区中关村大街1号", "广州国际采购中心1401", "深圳")] == \
        [part_of(a) for a in ("北京市海淀区中关村大街1号", "广州国际采购中心1401", "深圳")]
    assert part_of("x") in ("train", "measure")
    with pytest.raises(ValueError, match="unknown part"):
        real_addresses("cpca", "test")


def test_wrapped_records_carry_a_postcode_of_the_addresses_province():
    r = random.Random(0)
    # The first 300, and every address that starts with its label (地址:…), which the province is read past.
    measured = real_addresses("cpca", "measure")
    for address in [*measured[:300], *(a for a in measured[300:] if a.startswith("地址"))]:
        text = wrap(address, r)
        assert text.split(",")[1] == address or address in text
        province = province_of(address)
        postcode = text.rsplit("邮编:", 1)[1][:6]
        if province:
            assert province in POSTCODE_PREFIX_PROVINCES[postcode[:2]]
        # Only the address can fail a check: the wrapping itself never does.
        flags = ADDRESS_CHECKS.check(text).flags
        assert not {"name_missing", "name_junk", "postcode_region", "phone_prefix", "phone_format"} & set(flags)


def test_measurement_records_are_the_measurement_part_only():
    frame = measurement_records(per_corpus=200)
    assert len(frame) == 400 and frame.record_id.is_unique
    for corpus in CORPORA:
        assert set(frame[frame.corpus == corpus].address) <= set(real_addresses(corpus, "measure"))


def test_the_report_counts_each_labeller_and_the_reasons():
    scored = pd.DataFrame({
        "corpus": ["cpca"] * 4,
        "p_correct": [0.99, 0.2, 0.6, 0.99],
        "label": ["正确", "错误", "待审", "错误"],
        "decided_by": ["model", "model", "model", "check"],
        "check_flags": [[], [], ["admin_unknown"], ["address_incomplete"]],
    })
    report = real_report(scored, {"accept_at": 0.9, "reject_below": 0.3})["cpca"]
    assert report["n"] == 4 and report["decision"] == {"错误": 0.5, "待审": 0.25}
    assert report["model"] == {"错误": 0.25, "待审": 0.25} and report["checks"] == {"错误": 0.5, "待审": 0.0}
    assert report["reasons"] == {"admin_unknown": 1, "address_incomplete": 1}
    assert report["flagged_without_a_check"] == 1 and report["decided_by_check"] == 0.25
