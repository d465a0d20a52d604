import gzip
import json

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision

from history.base import PresencePoint
from history.errors import HistoryRejected, HistoryUnavailable
from history.influx import InfluxHistory, to_line
from history.influx_client import quote_influxql

POINT = PresencePoint(
    site="hq",
    device="d-0001",
    time_ms=1764410400123,
    occupied=True,
    seq=17,
    boot=3735928559,
    source="radar",
    clock_corrected=False,
    space="hq.1.d-001",
    kind="desk",
    floor="hq-1",
)


class Recorder:
    def __init__(self, status=204, body=b""):
        self.requests = []
        self.status = status
        self.body = body

    def __call__(self, request):
        self.requests.append(request)
        return httpx.Response(self.status, content=self.body)


def store(recorder, **kwargs):
    return InfluxHistory(
        "http://influx.test:8086", "werkplek", transport=httpx.MockTransport(recorder), **kwargs
    )


def test_write_is_gzipped_line_protocol_in_ms_with_sorted_tags():
    rec = Recorder()
    store(rec).write_points(
        [POINT, PresencePoint("hq", "d-0002", 1764410400999, False, 0, None, "pir", True)]
    )
    (request,) = rec.requests
    assert request.method == "POST"
    assert request.url.path == "/write"
    assert dict(request.url.params) == {"db": "werkplek", "precision": "ms"}
    assert request.headers["content-encoding"] == "gzip"
    lines = gzip.decompress(request.content).decode().split("\n")
    assert lines[0] == (
        "presence,device=d-0001,floor=hq-1,kind=desk,site=hq,space=hq.1.d-001 "
        'boot=3735928559i,clock_corrected=false,occupied=1i,seq=17i,source="radar" '
        "1764410400123"
    )
    # Unknown tags and the optional boot field are left out, not written empty.
    assert lines[1] == (
        'presence,device=d-0002,site=hq clock_corrected=true,occupied=0i,seq=0i,source="pir" '
        "1764410400999"
    )


def test_awkward_values_are_escaped_by_point():
    rec = Recorder()
    odd = PresencePoint("h q", "d,1", 1764410400000, True, 1, None, 'p"ir', False, space="a=b")
    store(rec).write_points([odd])
    line = gzip.decompress(rec.requests[0].content).decode()
    assert line.startswith("presence,device=d\\,1,site=h\\ q,space=a\\=b ")
    assert 'source="p\\"ir"' in line


def test_token_auth_header_and_basic_auth():
    rec = Recorder()
    store(rec, token="s3cret").write_points([POINT])
    assert rec.requests[0].headers["authorization"] == "Token s3cret"
    rec = Recorder()
    store(rec, username="gw", password="pw").write_points([POINT])
    assert rec.requests[0].headers["authorization"].startswith("Basic ")


def test_empty_batch_sends_nothing():
    rec = Recorder()
    store(rec).write_points([])
    assert rec.requests == []


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, HistoryRejected),
        (404, HistoryUnavailable),
        (401, HistoryUnavailable),
        (500, HistoryUnavailable),
        (503, HistoryUnavailable),
    ],
)
def test_write_errors_are_classified(status, error):
    with pytest.raises(error):
        store(Recorder(status, b'{"error":"x"}')).write_points([POINT])


def test_connection_failure_is_unavailable():
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    history = InfluxHistory("http://influx.test", "werkplek", transport=httpx.MockTransport(refuse))
    with pytest.raises(HistoryUnavailable):
        history.write_points([POINT])
    with pytest.raises(HistoryUnavailable):
        history.ensure_schema()


def test_create_database_refusal_is_not_fatal(caplog):
    rec = Recorder(
        200, json.dumps({"results": [{"statement_id": 0, "error": "forbidden"}]}).encode()
    )
    store(rec).ensure_schema()
    assert dict(rec.requests[0].url.params) == {} and b"CREATE+DATABASE" in rec.requests[0].content
    assert "refused" in caplog.text


def test_query_is_influxql_with_quoted_literals():
    body = {"results": [{"statement_id": 0}]}
    rec = Recorder(200, json.dumps(body).encode())
    assert store(rec).query_presence(start_ms=1, end_ms=2, space="it's") == []
    form = dict(httpx.QueryParams(rec.requests[0].content.decode()))
    assert form["epoch"] == "ms" and form["db"] == "werkplek"
    assert form["q"] == (
        "SELECT * FROM \"presence\" WHERE time >= 1ms AND time < 2ms AND space = 'it\\'s' "
        "ORDER BY time ASC"
    )
    assert quote_influxql("a\\b") == "'a\\\\b'"


def test_a_strange_query_answer_is_unavailable_not_a_crash():
    body = {"results": [{"series": [{"columns": ["time"], "values": [[1]]}]}]}
    with pytest.raises(HistoryUnavailable):
        store(Recorder(200, json.dumps(body).encode())).query_presence(start_ms=0, end_ms=1)


TAG_TEXT = st.text(min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    site=TAG_TEXT,
    device=TAG_TEXT,
    space=st.none() | TAG_TEXT,
    zone=st.none() | TAG_TEXT,
    source=st.text(max_size=12),
    boot=st.none() | st.integers(0, 2**32 - 1),
    seq=st.integers(0, 2**63 - 1),
    occupied=st.booleans(),
    corrected=st.booleans(),
)
def test_hand_written_line_protocol_equals_influxdb_client_point(
    site, device, space, zone, source, boot, seq, occupied, corrected
):
    point = PresencePoint(
        site,
        device,
        1764410400123,
        occupied,
        seq,
        boot,
        source,
        corrected,
        space,
        "desk",
        None,
        zone,
    )
    p = Point("presence")
    for tag in ("site", "device", "space", "kind", "floor", "zone"):
        if getattr(point, tag):
            p = p.tag(tag, getattr(point, tag))
    p = p.field("occupied", int(occupied)).field("seq", seq)
    if boot is not None:
        p = p.field("boot", boot)
    p = p.field("source", source).field("clock_corrected", corrected)
    assert to_line(point) == p.time(point.time_ms, WritePrecision.MS).to_line_protocol()


def test_points_beyond_the_retention_are_a_partial_write_not_a_failure(caplog):
    body = b'{"error":"partial write: points beyond retention policy dropped=1"}'
    store(Recorder(status=400, body=body)).write_points([POINT])  # no exception
    assert "older than the retention" in caplog.text
