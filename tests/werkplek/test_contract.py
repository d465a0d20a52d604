"""Ids are matched as whole strings: nothing that could change a topic gets through."""

from __future__ import annotations

import pytest

import contract

BAD_ENDINGS = ["\n", "\r", "\x00", "/", "+", "#", " ", "\t", "/x"]


@pytest.mark.parametrize("bad", BAD_ENDINGS)
@pytest.mark.parametrize("where", ["end", "start", "middle"])
def test_ids_with_control_or_topic_characters_are_invalid(bad, where):
    value = {"end": "d-0001" + bad, "start": bad + "d-0001", "middle": "d-0" + bad + "001"}[where]
    assert not contract.is_valid_id(value)
    assert not contract.is_valid_space_id(value.replace("d-", "hq.1."))
    with pytest.raises(contract.TopicError):
        contract.parse_device_topic(f"werkplek/v1/hq/{value}/presence")
    with pytest.raises(contract.TopicError):
        contract.parse_registry_topic(f"werkplek/v1/{value}/_registry/d-0001")


def test_valid_ids_still_pass_and_non_strings_are_invalid():
    assert contract.is_valid_id("d-0001") and contract.is_valid_id("0" * 63)
    assert not contract.is_valid_id("0" * 64)
    assert contract.is_valid_space_id("hq.2.d-014") and contract.is_valid_space_id("a_b")
    assert not contract.is_valid_id(None)  # type: ignore[arg-type]
    assert not contract.is_valid_space_id(7)  # type: ignore[arg-type]
