"""Every text key the pages use exists in Dutch and in English.

A missing key shows as an empty heading or button (the facility "Advies" heading
was empty for that reason). The booking app and the facility pages share one
scheme: ``data-i18n`` / ``data-i18n-label`` attributes in the HTML, ``T("key")``
calls in the JS, and an ``nl`` / ``en`` object in ``i18n.js``. The text objects
are read by running ``i18n.js`` in Node (a real JS engine, not a regex over it).
Keys built at run time (``T(z.mode)``) cannot be found by a scan; their values
are checked by the Chromium tests of each page.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
#: (folder, where the texts are, the pages and scripts that use them). The texts are
#: either a global set by ``i18n.js`` or a ``var TEXT = {...}`` inside one script. No
#: files named: every page and script of the folder (so a new script is checked too).
SCHEMES = [
    ("facility", "i18n.js:FACILITY_TEXT", ("index.html", "facility.js")),
    ("facility", "privacy.js:TEXT", ("privacy.html", "privacy.js")),
    ("app", "i18n.js:WERKPLEK_TEXT", ()),
]
HTML_KEY = re.compile(r'data-i18n(?:-label)?="([A-Za-z_]\w*)"')
#: ``T("key")`` or ``T("key", {...})``; not ``T("prefix" + x)``, a key built at run time.
JS_KEY = re.compile(r"""\bT\(\s*["']([A-Za-z_]\w*)["']\s*[,)]""")


def _node(script: str, *args: str) -> str:
    node = shutil.which("node")
    assert node, "node is needed to read the pages' text objects"
    return subprocess.run(
        [node, "-e", script, *args], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def _literal(source: str, start: int) -> str:
    """The object literal that opens at ``source[start]``, by matching braces outside strings."""
    depth, quote, i = 0, "", start
    while i < len(source):
        ch = source[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return source[start : i + 1]
        i += 1
    raise AssertionError("unterminated text object")


def _texts(folder: str, where: str) -> dict[str, dict[str, object]]:
    file, name = where.split(":")
    path = DASHBOARDS / folder / file
    if file == "i18n.js":
        script = (
            "global.window = {}; require(process.argv[1]);"
            f" process.stdout.write(JSON.stringify(window.{name}));"
        )
        out = _node(script, str(path))
    else:
        source = path.read_text(encoding="utf-8")
        found = re.search(rf"\bvar {name} = \{{", source)
        assert found, f"no var {name} in {path}"
        literal = _literal(source, found.end() - 1)
        out = _node(
            "process.stdout.write(JSON.stringify(eval('(' + process.argv[1] + ')')))", literal
        )
    texts: dict[str, dict[str, object]] = json.loads(out)
    return texts


def _used_keys(folder: str, files: tuple[str, ...]) -> dict[str, set[str]]:
    """Key -> the files that use it, from the given HTML pages and scripts."""
    used: dict[str, set[str]] = {}
    paths = [DASHBOARDS / folder / name for name in files] or [
        p
        for p in sorted((DASHBOARDS / folder).iterdir())
        if p.suffix in (".html", ".js") and p.name != "i18n.js"
    ]
    for path in paths:
        pattern = HTML_KEY if path.suffix == ".html" else JS_KEY
        for key in pattern.findall(path.read_text(encoding="utf-8")):
            used.setdefault(key, set()).add(path.name)
    return used


@pytest.mark.parametrize(("folder", "where", "files"), SCHEMES)
def test_every_used_key_is_in_both_languages(folder, where, files):
    texts = _texts(folder, where)
    assert set(texts) == {"nl", "en"}
    used = _used_keys(folder, files)
    assert used, f"no keys found in dashboards/{folder}: the scan is broken"
    missing = [
        f"{key} ({lang}; used in {', '.join(sorted(files))})"
        for key, files in sorted(used.items())
        for lang in ("nl", "en")
        if key not in texts[lang] or texts[lang][key] in ("", None)
    ]
    assert not missing, "missing text keys: " + "; ".join(missing)


@pytest.mark.parametrize(("folder", "where", "files"), SCHEMES)
def test_both_languages_have_the_same_keys(folder, where, files):
    texts = _texts(folder, where)
    only_nl = sorted(set(texts["nl"]) - set(texts["en"]))
    only_en = sorted(set(texts["en"]) - set(texts["nl"]))
    assert not only_nl and not only_en, f"only in nl: {only_nl}; only in en: {only_en}"


def test_the_scan_finds_a_missing_key(tmp_path, monkeypatch):
    """The check itself fails on a page that uses a key no language has."""
    page = tmp_path / "facility"
    page.mkdir()
    (page / "i18n.js").write_text(
        'window.FACILITY_TEXT = { nl: { a: "A" }, en: { a: "A" } };\n', encoding="utf-8"
    )
    (page / "index.html").write_text('<h2 data-i18n="a"></h2><h3 data-i18n="b"></h3>')
    (page / "x.js").write_text('T("a"); T("c", { n: 1 });')
    monkeypatch.setattr(__import__(__name__), "DASHBOARDS", tmp_path, raising=False)
    with pytest.raises(AssertionError, match=r"missing text keys: b \(nl.*c \(nl"):
        test_every_used_key_is_in_both_languages(
            "facility", "i18n.js:FACILITY_TEXT", ("index.html", "x.js")
        )
