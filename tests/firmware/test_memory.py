"""Heap of the node in steady state in the MicroPython unix port (the bench, short run)."""

from __future__ import annotations

import pytest

from bench.firmware_memory import LIMIT_BYTES, run_node

pytestmark = pytest.mark.integration


def test_node_heap_in_steady_state(micropython_bin, mosquitto, record_property):
    figures = run_node(
        micropython_bin, mosquitto.host, mosquitto.port, seconds=6, rate_messages=300
    )
    steady, code, base = figures["steady"], figures["code"], figures["baseline"]
    node_state = steady - code
    for key, value in (
        ("heap_baseline_bytes", base),
        ("heap_code_bytes", code - base),
        ("heap_steady_bytes", steady),
        ("heap_node_state_bytes", node_state),
        ("qos1_msgs_per_s", round(figures["rate_per_s"])),
    ):
        record_property(key, value)
    print(
        f"heap: steady {steady} B = interpreter {base} + code {code - base} + node {node_state}; "
        f"{figures['rate_per_s']:.0f} QoS 1 msg/s"
    )
    assert figures["changes"] >= 3 and figures["sent"] >= 3  # the node really worked
    # The node's own working memory (state, buffers, sockets, tasks) stays under the
    # issue's 40 KB. The loaded bytecode comes on top unless frozen into the firmware;
    # on this 64-bit port it is ~53 KB and guarded against growth here.
    assert node_state < LIMIT_BYTES
    assert code - base < 64 * 1024
    # The samples are flat: no leak while the node runs.
    samples = figures["samples"]
    assert max(samples) - min(samples) < 4 * 1024, samples
    assert figures["rate_per_s"] > 50
