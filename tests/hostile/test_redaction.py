"""Issue 18 item 8: one redaction rule set for everything shown or exported."""

from __future__ import annotations

from pathlib import Path

import pytest

from configlab import formats, redaction
from configlab.errors import FormatError
from configlab.integrations.exporters import EXPORT_FORMATS, export
from configlab.integrations.ingest import load_results
from configlab.redaction import REDACTED, RedactionRules
from configlab.results import Result, ResultSet
from tests.hostile.conftest import run_cli

SECRETS = ("hunter2", "s3cr3t-token", "pa55", "PEMDATA")


def _results() -> ResultSet:
    config = {
        "db": {"password": "hunter2", "url": "postgresql://app:pa55@db.example/app",
               "pool": 4},
        "api_key": "s3cr3t-token",
        "tls": {"private_key": "PEMDATA"},
        "log": "info",
    }
    return ResultSet([Result(config, "fail", duration=0.5, test_id="t::a"),
                      Result({"log": "debug"}, "pass", duration=0.1, test_id="t::b")])


def _everything(out: Path) -> str:
    files = [out] if out.is_file() else sorted(p for p in out.rglob("*") if p.is_file())
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in files)


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_every_export_format_redacts(tmp_path: Path, fmt: str) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    out = tmp_path / f"out-{fmt}"
    export(_results(), fmt, out)
    text = _everything(out)
    if fmt != "parquet":  # parquet pages are compressed: checked by reading back below
        assert "pool" in text
        for secret in SECRETS:
            assert secret not in text, (fmt, secret)
    if fmt in ("jsonl", "csv", "parquet"):
        back = load_results(out)
        assert back[0].config["db"]["password"] == REDACTED
        assert back[0].config["db"]["pool"] == 4
    with redaction.using(RedactionRules(enabled=False)):
        export(_results(), fmt, tmp_path / f"raw-{fmt}")
    if fmt not in ("parquet",):
        assert "hunter2" in _everything(tmp_path / f"raw-{fmt}")


def test_report_command_redacts_unless_no_redact(tmp_path: Path) -> None:
    source = tmp_path / "r.jsonl"
    _results().to_jsonl(source)
    out = tmp_path / "junit.xml"
    assert run_cli("report", "--results", str(source), "--to", "junit", "-o",
                   str(out)).returncode == 0
    assert "hunter2" not in out.read_text() and REDACTED in out.read_text()
    assert run_cli("--no-redact", "report", "--results", str(source), "--to", "junit", "-o",
                   str(out)).returncode == 0
    assert "hunter2" in out.read_text()


def test_rules_names_urls_and_configuration() -> None:
    rules = RedactionRules()
    secret = ["DB_PASS", "DB_PWD", "GH_AUTH", "TLS_PRIVATE_KEY", "CERT_PEM", "API_KEY",
              "apiKey", "db_password", "SESSION_TOKEN", "AWS_CREDENTIALS", "MYSECRETX"]
    plain = ["passport", "keyboard", "author", "HOME", "pool_size", "db.host"]
    assert all(rules.is_secret_name(n) for n in secret)
    assert not any(rules.is_secret_name(n) for n in plain)
    assert rules.text("see https://u:p%40ss@h:5/x?q and http://h/") == (
        f"see https://u:{REDACTED}@h:5/x?q and http://h/")
    assert rules.tree({"tokens": ["a", None], "k": None}) == {
        "tokens": [REDACTED, None], "k": None}
    assert rules.value("db.password", "x") == REDACTED and rules.value("db.host", "h") == "h"
    assert rules.flat([("A_TOKEN", "t"), ("HOME", "/root")]) == [("A_TOKEN", REDACTED),
                                                                  ("HOME", "/root")]
    custom = RedactionRules.from_environment({"CONFIGLAB_SECRET_WORDS": "pin, otp",
                                              "CONFIGLAB_ALLOW_SECRETS": "API_*"})
    assert custom.is_secret_name("CARD_PIN") and not custom.is_secret_name("API_KEY")
    assert not RedactionRules.from_environment({"CONFIGLAB_NO_REDACT": "1"}).enabled
    assert RedactionRules(enabled=False).tree({"password": "x"}) == {"password": "x"}
    with redaction.using(RedactionRules(enabled=False)):
        assert redaction.redact_text("a://u:p@h") == "a://u:p@h"
    assert redaction.redact_tree({"password": "x"}) == {"password": REDACTED}


@pytest.mark.parametrize(("name", "text"), [
    (".env", 'DB_PASSWORD="hunter2\n'),
    ("app.ini", "[a\npassword = hunter2\n"),
])
def test_parse_errors_never_print_values(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(FormatError) as info:
        formats.load(path)
    assert "hunter2" not in str(info.value)
    result = run_cli("space", "convert-config", str(path), "--to", "json")
    assert result.returncode == 2 and "hunter2" not in result.stderr


def test_snapshot_show_list_and_diff_redact(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    config = tmp_path / "app.yaml"
    config.write_text("db:\n  password: hunter2\n  host: h1\n")
    env = {"PATH": "/usr/bin:/bin", "APP_DB_PASS": "pa55",
           "APP_URL": "postgresql://u:s3cr3t-token@h/db", "APP_MODE": "fast"}
    first = run_cli("snapshot", "capture", str(config), "--env", "APP_*", "--meta",
                    "api_token=PEMDATA", "--tag", "one", "--store", store, env=env)
    assert first.returncode == 0, first.stderr
    config.write_text("db:\n  password: changed-hunter2\n  host: h2\n")
    assert run_cli("snapshot", "capture", str(config), "--tag", "two",
                   "--store", store).returncode == 0
    shown = [run_cli("snapshot", "show", "one", "--store", store),
             run_cli("snapshot", "show", "one", "--json", "--store", store),
             run_cli("snapshot", "list", "--json", "--store", store),
             run_cli("snapshot", "diff", "one", "two", "--store", store),
             run_cli("snapshot", "diff", "one", "two", "--json", "--store", store)]
    for result in shown:
        assert result.returncode == 0, result.stderr
        for secret in SECRETS:
            assert secret not in result.stdout, (secret, result.stdout)
    assert "APP_MODE=fast" in shown[0].stdout and "\"h1\" -> \"h2\"" in shown[3].stdout
    raw = run_cli("--no-redact", "snapshot", "diff", "one", "two", "--store", store)
    assert "hunter2" in raw.stdout
    # the stored file itself stays byte-exact
    out = tmp_path / "restored"
    assert run_cli("snapshot", "restore", "two", str(out), "--store", store).returncode == 0
    assert (out / "app.yaml").read_text() == "db:\n  password: changed-hunter2\n  host: h2\n"
