"""The quick presence check accepts exactly what the rule-by-rule check accepts."""

from hypothesis import given, settings
from hypothesis import strategies as st

from contract import ContractError as InvalidMessage
from contract.device import _check_presence, _parse_presence

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=False),
    st.sampled_from(["pir", "radar", "fused", "change", "heartbeat", "x", ""]),
    st.lists(st.integers(), max_size=2),
    st.integers(min_value=1_700_000_000_000, max_value=1_800_000_000_000),
    st.floats(min_value=0, max_value=1),
)
keys = st.sampled_from(["seq", "boot", "ts", "occupied", "source", "confidence", "reason"])


def outcome(check, data):
    try:
        return check("hq", "d-1", data, 1_764_410_400_000)
    except InvalidMessage as exc:
        return exc.reason


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(keys, values))
def test_quick_and_careful_presence_checks_agree(data):
    assert outcome(_parse_presence, data) == outcome(_check_presence, data)


@settings(max_examples=200, deadline=None)
@given(
    seq=st.integers(min_value=0, max_value=2**63 - 1),
    occupied=st.booleans(),
    source=st.sampled_from(["pir", "radar", "fused"]),
    extra=st.dictionaries(keys, values, max_size=2),
)
def test_agree_on_mostly_valid_messages(seq, occupied, source, extra):
    data = {"seq": seq, "ts": None, "occupied": occupied, "source": source} | extra
    assert outcome(_parse_presence, data) == outcome(_check_presence, data)
