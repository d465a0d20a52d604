"""`werkplek schema`: the operator's upgrade and rollback commands (docs/operations.md)."""

from __future__ import annotations

from werkplek.cli import main
from werkplek.schema import history


def test_upgrade_rollback_and_a_bad_revision(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WERKPLEK_DATABASE_URL", f"sqlite:///{tmp_path}/werkplek.sqlite3")
    chain = history()
    assert main(["schema", "history"]) == 0
    listed = capsys.readouterr().out
    assert all(revision in listed for revision in chain)
    assert main(["schema", "current"]) == 0
    assert capsys.readouterr().out.strip() == "none"
    assert main(["schema", "upgrade", "head"]) == 0
    assert capsys.readouterr().out.strip() == chain[-1]
    assert main(["schema", "downgrade", chain[-2]]) == 0
    assert capsys.readouterr().out.strip() == chain[-2]
    assert main(["schema", "current"]) == 0
    assert capsys.readouterr().out.strip() == chain[-2]
    assert main(["schema", "downgrade", "no-such-revision"]) == 1
    assert "no-such-revision" in capsys.readouterr().err
    assert main(["schema", "upgrade"]) == 1
    assert "needs a revision" in capsys.readouterr().err
