"""The one dashboard client (dashboards/shared/client.js) and that every page uses it.

The client runs in Node (a real JS engine) with fakes only at its boundary: ``fetch``,
``EventSource`` and the timers, so backoff, jitter and the quiet probe are checked
without waiting. The pages themselves run against a real backend in tests/e2e.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
CLIENT = DASHBOARDS / "shared" / "client.js"

#: Fakes for the browser around the client; ``STEPS`` (the test's own code) runs after it.
HARNESS = r"""
const fs = require("fs");
let now = 1000000, timers = [], seq = 0, calls = [], sources = [], answers = [];
globalThis.window = globalThis;
globalThis.navigator = { language: process.argv[2] || "nl-NL", languages: undefined };
Date.now = () => now;
globalThis.setTimeout = (fn, ms) => {
  const id = ++seq;
  timers.push({ id, at: now + ms, ms, fn });
  return id;
};
globalThis.clearTimeout = (id) => { timers = timers.filter((t) => t.id !== id); };
globalThis.setInterval = (fn, ms) => {
  const id = ++seq;
  const again = () => { fn(); timers.push({ id, at: now + ms, ms, fn: again }); };
  timers.push({ id, at: now + ms, ms, fn: again });
  return id;
};
globalThis.clearInterval = globalThis.clearTimeout;
/* fetch answers from the queue: {status, body} or "down" (a network failure). */
globalThis.fetch = (path, init) => {
  calls.push({ path, method: init.method, headers: init.headers, body: init.body });
  const a = answers.shift() || { status: 200, body: {} };
  if (a === "down") return Promise.reject(new TypeError("Failed to fetch"));
  const text = a.body === undefined ? "" : JSON.stringify(a.body);
  const json = () =>
    text ? Promise.resolve(JSON.parse(text)) : Promise.reject(new SyntaxError("empty"));
  const headers = { get: (name) => (a.headers && a.headers[name]) || null };
  return Promise.resolve({ ok: a.status < 300, status: a.status, json, headers });
};
class FakeSource {
  constructor(url) {
    this.url = url; this.readyState = 0; this.listeners = {}; this.closed = false;
    sources.push(this);
  }
  addEventListener(kind, fn) { this.listeners[kind] = fn; }
  close() { this.closed = true; this.readyState = 2; }
  emit(kind, data) { this.readyState = 1; this.listeners[kind]({ data: JSON.stringify(data) }); }
  fail() { this.readyState = 0; this.onerror(); }
}
globalThis.EventSource = FakeSource;
const settle = () => new Promise((r) => setImmediate(r));
/* Run the earliest timer (moving the clock to it) and let promises settle. */
async function next() {
  timers.sort((a, b) => a.at - b.at);
  const t = timers.shift();
  now = Math.max(now, t.at);
  t.fn();
  await settle(); await settle();
  return t;
}
eval(fs.readFileSync(process.argv[1], "utf8"));
const C = window.WerkplekClient;
const out = {};
(async () => {
  STEPS
  await settle();
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { process.stderr.write(String(e.stack || e)); process.exit(1); });
"""


def run(steps: str, browser_language: str = "nl-NL") -> Any:
    node = shutil.which("node")
    assert node, "node is needed to run the shared client"
    script = HARNESS.replace("STEPS", steps)
    done = subprocess.run(
        [node, "-e", script, str(CLIENT), browser_language],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_api_sends_the_pages_token_and_json_and_surfaces_problem_details() -> None:
    out = run(r"""
      let token = "t-1";
      const http = C.http(() => token);
      answers.push({ status: 201, body: { id: 7 } });
      out.made = await http.api("POST", "/api/v1/bookings", { space_id: "hq.1.d-01" });
      out.first = calls[0];
      answers.push({ status: 409, body: { detail: "The desk is taken.", reason: "space_taken" } });
      await http.api("GET", "/x").catch((e) => { out.refused = [e.status, e.reason, e.message]; });
      answers.push({ status: 502 });
      await http.api("GET", "/y").catch((e) => { out.bare = [e.status, e.reason, e.message]; });
      answers.push("down");
      await http.api("GET", "/z").catch((e) => { out.down = [e.status, e.reason]; });
      token = "";
      answers.push({ status: 204 });
      out.empty = await http.api("DELETE", "/api/v1/bookings/7");
      out.anonymous = calls[calls.length - 1].headers;
    """)
    assert out["made"] == {"id": 7}
    assert out["first"]["method"] == "POST"
    assert out["first"]["headers"]["Authorization"] == "Bearer t-1"
    assert out["first"]["headers"]["Content-Type"] == "application/json"
    assert json.loads(out["first"]["body"]) == {"space_id": "hq.1.d-01"}
    assert out["refused"] == [409, "space_taken", "The desk is taken."]
    assert out["bare"] == [502, "", "HTTP 502"]
    assert out["down"] == [0, "network"]
    assert out["empty"] == {}
    assert "Authorization" not in out["anonymous"]
    assert "Content-Type" not in out["anonymous"]


def test_now_follows_the_servers_clock_and_its_rate() -> None:
    """The demo's simulated day reaches the pages through the Werkplek-Time header."""
    out = run(r"""
      const http = C.http(() => "t");
      out.before = C.nowMs() === now;  // nothing learnt yet: the browser's clock
      const monday = Date.UTC(2031, 2, 3, 8, 30);  // far from the browser's clock
      answers.push({ status: 200, body: {}, headers: { "Werkplek-Time": String(monday) } });
      await http.api("GET", "/api/v1/spaces/hq.1.r-02/today");
      out.learnt = C.nowMs() - monday;
      now += 60000;
      out.aMinuteLater = C.now().getTime() - monday;
      // A refused answer says the time too; the demo at --speed 30 gives its rate.
      answers.push({ status: 422, body: { detail: "closed", reason: "outside_opening_hours" },
                     headers: { "Werkplek-Time": monday + "; rate=30" } });
      await http.api("POST", "/api/v1/spaces/hq.1.r-02/book-now", {}).catch(() => {});
      now += 2000;
      out.fast = C.nowMs() - monday;
      // A sensor's wall-clock "since" 3 real seconds before now, on the simulated clock.
      out.since = C.fromWall(now - 3000) - monday;
      // A garbled or missing header changes nothing.
      answers.push({ status: 200, body: {}, headers: { "Werkplek-Time": "soon" } });
      await http.api("GET", "/x");
      answers.push({ status: 200, body: {} });
      await http.api("GET", "/y");
      out.kept = C.nowMs() - monday;
    """)
    assert out["before"] is True
    assert out["learnt"] == 0
    assert out["aMinuteLater"] == 60_000
    assert out["fast"] == 60_000  # two real seconds at rate 30
    assert out["since"] == 60_000 - 90_000  # three real seconds back at rate 30
    assert out["kept"] == 60_000


def test_the_stream_opens_with_a_stream_token_and_backs_off_with_jitter() -> None:
    out = run(r"""
      const http = C.http(() => "screen");
      const seen = [];
      const s = new C.Stream("/api/v1/stream?site=hq&floor=hq-1",
        { snapshot: (d) => seen.push(d), delta: (d) => seen.push(d) }, { api: http.api });
      answers.push({ status: 201, body: { stream_token: "st 1" } });
      s.open(); await settle(); await settle();
      out.tokenCall = [calls[0].method, calls[0].path, calls[0].headers.Authorization];
      out.url = sources[0].url;
      sources[0].emit("snapshot", { n: 1 });
      out.state = s.state();
      // The server goes away: every retry asks for a fresh token and fails.
      for (let i = 0; i < 12; i += 1) answers.push("down");
      sources[0].fail();
      out.offline = s.state();
      out.closed = sources[0].closed;
      out.waits = [];
      for (let i = 0; i < 8; i += 1) out.waits.push((await next()).ms);
      // Back again: a snapshot resets the pause to the first one.
      answers.length = 0;
      answers.push({ status: 201, body: { stream_token: "st 2" } });
      await next();
      sources[sources.length - 1].emit("snapshot", { n: 2 });
      sources[sources.length - 1].fail();
      out.afterReset = timers[0].ms;
      out.tokenCalls = calls.filter((c) => c.path === "/api/v1/stream-tokens").length;
      out.seen = seen;
    """)
    assert out["tokenCall"] == ["POST", "/api/v1/stream-tokens", "Bearer screen"]
    assert out["url"] == "/api/v1/stream?site=hq&floor=hq-1&stream_token=st%201"
    assert out["state"] == "open"
    assert out["offline"] == "offline"
    assert out["closed"] is True
    # Doubling from 1 s up to 30 s, each spread by at most a quarter either way.
    bases = [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
    for wait, base in zip(out["waits"], bases, strict=True):
        assert 0.75 * base <= wait <= 1.25 * base, (wait, base)
    assert 750 <= out["afterReset"] <= 1250
    assert out["tokenCalls"] == 1 + 8 + 1  # one fresh token per attempt
    assert out["seen"] == [{"n": 1}, {"n": 2}]


def test_the_jitter_spreads_screens_that_lost_the_server_together() -> None:
    out = run(r"""
      out.waits = [];
      for (let i = 0; i < 20; i += 1) {
        const down = () => Promise.reject({ status: 0 });
        const s = new C.Stream("/s", { snapshot() {}, delta() {} }, { api: down });
        s.open(); await settle(); await settle();
        out.waits.push(timers[timers.length - 1].ms);
        s.stop();
      }
    """)
    assert all(750 <= w <= 1250 for w in out["waits"]), out["waits"]
    assert len(set(out["waits"])) > 1, out["waits"]  # not all at the same instant


def test_a_refused_stream_token_stops_or_retries_as_the_page_says() -> None:
    out = run(r"""
      const refusedBy = [];
      const make = (stop) => new C.Stream("/s", { snapshot() {}, delta() {},
        refused: (e) => { refusedBy.push(e.status); return stop; } },
        { api: C.http(() => "old").api });
      answers.push({ status: 401, body: { reason: "token_expired" } });
      const stopping = make(true);
      stopping.open(); await settle(); await settle();
      out.stopped = [stopping.state(), timers.length];
      answers.push({ status: 403, body: { reason: "role_not_allowed" } });
      const retrying = make(undefined);
      retrying.open(); await settle(); await settle();
      out.retrying = [retrying.state(), timers.length];
      out.refusedBy = refusedBy;
    """)
    assert out["stopped"] == ["connecting", 0]  # no retry planned
    assert out["retrying"] == ["offline", 1]
    assert out["refusedBy"] == [401, 403]


def test_a_quiet_open_stream_is_probed_and_a_failed_probe_reconnects() -> None:
    out = run(r"""
      const applied = [];
      answers.push({ status: 201, body: { stream_token: "a" } });
      const s = new C.Stream("/api/v1/stream?site=hq", { snapshot() {}, delta() {} }, {
        api: C.http(() => "screen").api,
        probe: { path: "/api/v1/availability?site=hq", apply: (d) => applied.push(d),
                 quietMs: 45000 }
      });
      s.open(); await settle(); await settle();
      sources[0].emit("snapshot", {});
      const start = now;
      // Probes are checked every 5 s; none goes out before 45 s of quiet.
      while (now - start < 40000) await next();
      out.early = calls.filter((c) => c.path.startsWith("/api/v1/availability")).length;
      answers.push({ status: 200, body: { spaces: [] } });
      while (now - start < 50000) await next();
      out.probes = calls.filter((c) => c.path.startsWith("/api/v1/availability")).length;
      out.applied = applied;
      out.stillOpen = s.state();
      answers.push("down");
      while (now - start < 100000 && s.state() === "open") await next();
      out.afterFailure = s.state();
      out.closed = sources[0].closed;
    """)
    assert out["early"] == 0
    assert out["probes"] == 1
    assert out["applied"] == [{"spaces": []}]
    assert out["stillOpen"] == "open"
    assert out["afterFailure"] == "offline"
    assert out["closed"] is True


def test_texts_are_dutch_first_and_formats_follow_the_language() -> None:
    out = run(
        r"""
      const table = { nl: { free: "{n} vrij", kinds: { desk: "werkplek" } },
                      en: { free: "{n} free", kinds: { desk: "desk" } } };
      let lang = C.pickLang([null, "xx"]);
      const t = C.i18n(table, () => lang);
      out.nl = [lang, t.t("free", { n: 3 }), t.t("kinds").desk, t.t("missing"), t.t("free"),
        t.number(230.4, { maximumFractionDigits: 1 }), t.locale(),
        t.date(new Date(Date.UTC(2026, 11, 8, 12)),
               { weekday: "long", day: "numeric", month: "long" }, "Europe/Amsterdam")];
      lang = C.pickLang(["en", "nl"]);
      out.en = [lang, t.t("free", { n: 3 }), t.number(230.4, { maximumFractionDigits: 1 }),
        t.locale()];
      out.browser = C.pickLang([null], true);
    """,
        browser_language="en-US",
    )
    assert out["nl"] == [
        "nl", "3 vrij", "werkplek", "missing", " vrij", "230,4", "nl-NL", "dinsdag 8 december",
    ]  # fmt: skip
    assert out["en"] == ["en", "3 free", "230.4", "en-GB"]
    assert out["browser"] == "en"  # only when asked, and only when the browser prefers English


def _pages() -> list[Path]:
    return sorted(p for p in DASHBOARDS.glob("*/*.html") if "<script" in p.read_text())


@pytest.mark.parametrize("page", _pages(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_page_with_scripts_loads_the_shared_client_first(page: Path) -> None:
    sources = re.findall(r'<script src="([^"]+)"', page.read_text())
    assert sources, page
    assert sources[0] == "../shared/client.js", sources
    assert (page.parent / sources[0]).resolve() == CLIENT


def test_only_the_shared_client_talks_to_the_server() -> None:
    # One API helper and one stream client: no page script calls fetch or EventSource.
    talking = [
        f"{js.parent.name}/{js.name}"
        for js in DASHBOARDS.glob("*/*.js")
        if js.parent.name != "shared"
        and re.search(r"\bfetch\(|new EventSource\(|XMLHttpRequest", js.read_text())
    ]
    assert talking == []
    assert len(_pages()) >= 6  # signage, door panel, app, QR sheet, facility, privacy
