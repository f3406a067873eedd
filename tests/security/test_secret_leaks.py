"""Secret values never leak, in any form: sanitised where they enter, masked where text leaves.

Issue 13: a secrets-dir file holding ``tok\\n\\n`` made requests fail with ``Invalid
header value b'S3cr3t...\\n'`` in the answer, because masking was by exact value only.
Each output below is searched for the value in every form (see :func:`assert_no_leak`).
"""

from __future__ import annotations

import base64
import http.server
import io
import json
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import orjson
import pytest

from conftest import loopback_http
from runwire import redaction
from runwire.cli.main import main
from runwire.cli.output import error_text, write_error
from runwire.deploy.deployment import DeploymentError, deployment_for_files
from runwire.deploy.pipelines import build_pipeline
from runwire.deploy.secrets import (
    AwsSecretsManagerSource,
    AwsSsmSource,
    DotenvSource,
    EnvSource,
    ExplicitSource,
    SecretResolver,
    SecretsDirSource,
    SecretSourceError,
)
from runwire.errors import ManifestError, ProviderError, RunwireError
from runwire.redaction import (
    MASK,
    RedactingFilter,
    install_log_redaction,
    redact,
    register_secret,
)

VALUE = "S3cr3tValue-xyz"
KEY_ID = "AKIAS3cr3tValue-xyz"
SIGNING = "wJal/S3cr3t+Value=xyz/Key"  # URL-encoding and base64 change it
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    redaction.clear_secrets()
    yield
    redaction.clear_secrets()


# -- what a leak is ------------------------------------------------------------------------
def encodings(value: str) -> set[str]:
    """The value written the ways a message can carry it (built here, not by runwire)."""
    data = value.encode()
    out = {
        value,
        repr(value)[1:-1],
        repr(data)[2:-1],
        value.encode("unicode_escape").decode(),
        json.dumps(value)[1:-1],
        json.dumps(json.dumps(value))[1:-1],
        json.dumps(repr(data))[1:-1],
        quote(value, safe=""),
        quote_plus(value),
    }
    for offset in range(3):  # base64 of the value inside a longer text, at each alignment
        encoded = base64.b64encode(b"\0" * offset + data).decode().rstrip("=")
        out.add(encoded[4:-4] if offset else encoded)
    return out


def assert_no_leak(text: str, value: str, window: int = 8) -> None:
    """No ``window`` consecutive characters of the value, in any encoding, are in ``text``."""
    for form in encodings(value) | encodings(value.strip()):
        for start in range(max(1, len(form) - window + 1)):
            piece = form[start : start + window]
            assert piece not in text, f"{piece!r} of a form of the secret is in {text!r}"


def echoes(value: str) -> list[str]:
    """Upstream-style error texts quoting the value in one form each."""
    data = value.encode()
    return [
        f"Invalid header value b'AWS4-HMAC-SHA256 Credential={repr(data)[2:-1]}/2026/us'",
        f"bad value {value!r} given",
        f"bad value {value.strip()} given",
        orjson.dumps({"message": f"token {value} refused"}).decode(),
        json.dumps({"message": repr(data)}),
        f"https://example.com/cb?token={quote(value, safe='')}&x=1",
        f"https://example.com/cb?token={quote_plus(value)}",
        "Authorization: Basic " + base64.b64encode(f"user:{value}".encode()).decode(),
        "Authorization: Basic " + base64.b64encode(f"us:{value}".encode()).decode(),
        "Authorization: Basic " + base64.b64encode(f"u:{value}".encode()).decode(),
        "Bearer " + base64.urlsafe_b64encode(value.encode()).decode(),
        f"key {value.strip()[:9]}... (truncated)",
        f"key ...{value.strip()[-9:]} (truncated)",
        f"Credential={value.strip()[:12]}",
    ]


# -- sanitised at the source ---------------------------------------------------------------
def test_dir_source_strips_one_newline_and_refuses_a_second(tmp_path: Path) -> None:
    (tmp_path / "OK").write_text(VALUE + "\n", encoding="utf-8")
    (tmp_path / "CRLF").write_bytes(VALUE.encode() + b"\r\n")
    (tmp_path / "TWO").write_text(VALUE + "\n\n", encoding="utf-8")
    resolver = SecretResolver([SecretsDirSource(tmp_path)])
    assert resolver["OK"] == VALUE and resolver["CRLF"] == VALUE
    with pytest.raises(SecretSourceError) as caught:
        resolver["TWO"]
    text = str(caught.value)
    assert "TWO" in text and "'dir'" in text and str(tmp_path / "TWO") in text
    assert "line break" in text and "hint: " in text and caught.value.secret == "TWO"
    assert_no_leak(text + repr(caught.value), VALUE)


@pytest.mark.parametrize(
    ("char", "named"),
    [
        ("\n", "line break"),
        ("\r", "carriage return"),
        ("\0", "NUL"),
        ("\x1b", "U+001B"),
        ("\x85", "U+0085"),
        ("\x7f", "U+007F"),
    ],
)
def test_every_source_refuses_control_characters(char: str, named: str, tmp_path: Path) -> None:
    bad = f"{VALUE}{char}tail"
    dotenv = tmp_path / "app.env"
    written = {"\n": "\\n", "\r": "\\r"}.get(char, char)  # python-dotenv's escapes
    dotenv.write_text(f'BAD="{VALUE}{written}tail"\n', encoding="utf-8")
    sources = [
        ExplicitSource({"BAD": bad}),
        EnvSource({"BAD": bad}),
        DotenvSource(dotenv),
        AwsSecretsManagerSource(client=FakeAws(bad), ttl_s=0),
        AwsSsmSource(prefix="/app/", client=FakeAws(bad), ttl_s=0),
    ]
    for source in sources:
        if char == "\0" and source.name == "dotenv":
            continue  # python-dotenv cannot hold a NUL
        with pytest.raises(SecretSourceError, match=re.escape(named)) as caught:
            SecretResolver([source])["BAD"]
        assert f"'{source.name}'" in str(caught.value), source.name
        assert_no_leak(str(caught.value) + repr(caught.value), VALUE)
    assert redaction.registered_count() == 0  # refused values are not kept


def test_tab_and_unicode_are_allowed_and_registered() -> None:
    resolver = SecretResolver([ExplicitSource({"A": "pa\tss-wörd-1234"})])
    assert resolver["A"] == "pa\tss-wörd-1234"
    assert redact("got pa\tss-wörd-1234") == f"got {MASK}"


class FakeAws:
    """A Secrets Manager / SSM client answering every lookup with one value."""

    def __init__(self, value: str) -> None:
        self.value = value

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        return {"SecretString": self.value}

    def get_parameter(self, Name: str, WithDecryption: bool) -> dict[str, Any]:
        return {"Parameter": {"Value": self.value}}


def test_a_deployment_with_a_two_line_secret_file_fails_to_build_at_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "KEY_ID").write_text(KEY_ID + "\n\n", encoding="utf-8")
    (tmp_path / "chat.yaml").write_text(
        f"_type: ChatBedrockConverse\nmodel: {MODEL}\nregion_name: us-east-1\n"
        "aws_access_key_id: !secret KEY_ID\n",
        encoding="utf-8",
    )
    deployment = deployment_for_files(["chat.yaml"])
    resolver = SecretResolver([SecretsDirSource(tmp_path / "secrets")])
    with pytest.raises(DeploymentError) as caught:
        build_pipeline(deployment, "chat", resolver)
    error = caught.value
    assert (error.file, error.line, error.path) == ("chat.yaml", 4, "$.aws_access_key_id")
    assert "secret KEY_ID" in error.message and "one trailing newline is fine" in error.hint
    assert_no_leak(str(error) + repr(error) + json.dumps(error.to_dict()), KEY_ID)


# -- masked where text leaves --------------------------------------------------------------
@pytest.mark.parametrize("value", [VALUE + "\n\n", SIGNING, KEY_ID])
def test_redact_masks_every_form_of_a_registered_value(value: str) -> None:
    register_secret(value)
    for text in echoes(value):
        masked = redact(text)
        assert MASK in masked, text
        assert_no_leak(masked, value)


def test_redact_leaves_other_text_alone_and_ignores_short_values() -> None:
    text = "bedrock-runtime Converse failed: ThrottlingException (HTTP 429)"
    assert redact(text) == text  # nothing registered
    register_secret("abc")  # too short to be a secret: masking it would garble messages
    register_secret(None)
    register_secret(VALUE)
    assert redaction.registered_count() == 1
    assert redact(text) == text and redact("abc") == "abc" and redact("") == ""
    assert redact(f"{VALUE} and {VALUE}") == f"{MASK} and {MASK}"
    assert redact("S3cr3tV") == "S3cr3tV"  # 7 characters of it are not an echo


def test_the_registry_is_bounded_and_drops_the_oldest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redaction, "MAX_SECRETS", 3)
    alpha, bravo, charlie, delta = "Alpha-0-value", "Bravo-1-token", "Charlie-2-key", "Delta-3-pass"
    for value in (alpha, bravo, charlie):
        register_secret(value)
    register_secret(alpha)  # used again: now the newest
    register_secret(delta)
    assert redaction.registered_count() == 3
    assert redact(bravo) == bravo  # the oldest went
    assert redact(f"{alpha} {charlie} {delta}") == f"{MASK} {MASK} {MASK}"


def test_registration_is_thread_safe() -> None:
    values = [f"thread-secret-{n:04d}" for n in range(400)]
    threads = [
        threading.Thread(target=lambda chunk=values[i::4]: [register_secret(v) for v in chunk])
        for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert redaction.registered_count() == 400
    assert redact(" ".join(values)) == " ".join([MASK] * 400)


def test_errors_mask_registered_values_in_text_repr_and_dict() -> None:
    value = VALUE + "\n\n"
    register_secret(value)
    for echo in echoes(value):
        provider = ProviderError("bedrock-runtime", "Converse", "HTTPClientError", echo)
        manifest = ManifestError(echo, hint=f"not {value}", path=("kwargs", "x"))
        other = RunwireError(echo)
        for error in (provider, manifest, other):
            shown = str(error) + repr(error) + json.dumps(getattr(error, "to_dict", dict)())
            shown += error_text(error) + repr(error.args)
            assert_no_leak(shown, value)
    assert error_text(ValueError(echo)).startswith("error: ValueError: ")
    assert_no_leak(error_text(ValueError(echo)), value)


def test_write_error_prints_masked_text() -> None:
    register_secret(SIGNING)
    out = io.StringIO()
    write_error(f"refused {SIGNING!r}", stream=out)
    assert out.getvalue() == f"refused '{MASK}'\n"


def test_logging_filter_masks_message_args_and_traceback() -> None:
    register_secret(VALUE + "\n\n")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("runwire.tests.secret_leaks")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        install_log_redaction(logger.name)
        assert isinstance(handler.filters[0], RedactingFilter)
        logger.warning("header %r refused", (VALUE + "\n\n").encode())
        logger.warning("%s", {"key": VALUE})
        try:
            raise ValueError(f"Invalid header value b'{VALUE}\\n\\n'")
        except ValueError:
            logger.exception("call failed for %s", VALUE[:10])
        logger.warning("shown %d times", 3)  # records without secrets are unchanged
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert text.count(MASK) >= 4 and "Traceback" in text and "shown 3 times" in text
    assert_no_leak(text, VALUE)


def test_logging_without_handlers_is_masked_too(capsys: pytest.CaptureFixture[str]) -> None:
    register_secret(VALUE)
    logger = logging.getLogger("runwire.tests.no_handler")
    logger.propagate = False  # no handler anywhere: logging.lastResort prints to stderr
    install_log_redaction()
    logger.warning("refused %s", VALUE)
    err = capsys.readouterr().err
    assert f"refused {MASK}" in err
    assert_no_leak(err, VALUE)


# -- end to end: `runwire run` against a server echoing the Authorization header -----------
class EchoAuthHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request 403, quoting its Authorization header in several forms."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        auth = self.headers.get("Authorization", "")
        self.server.requests += 1  # type: ignore[attr-defined]
        message = (
            f"bad signature for {auth} ({auth[:40]}...) "
            f"[{quote(auth, safe='')}] [{base64.b64encode(auth.encode()).decode()}]"
        )
        body = orjson.dumps({"message": message})
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-ErrorType", "AccessDeniedException")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def echo_server() -> Iterator[http.server.ThreadingHTTPServer]:
    with loopback_http(EchoAuthHandler) as server:
        server.requests = 0  # type: ignore[attr-defined]
        yield server


@pytest.mark.parametrize("ending", ["\n\n", ""], ids=["trailing-newlines", "clean"])
def test_runwire_run_never_prints_the_key_in_any_form(
    ending: str,
    echo_server: http.server.ThreadingHTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LEAK_TEST_KEY_ID", KEY_ID + ending)
    monkeypatch.setenv("LEAK_TEST_SECRET", SIGNING + ending)
    manifest = tmp_path / "chat.yaml"
    manifest.write_text(
        f"_type: ChatBedrockConverse\nmodel: {MODEL}\nregion_name: us-east-1\n"
        f"endpoint_url: http://127.0.0.1:{echo_server.server_address[1]}\n"
        "aws_access_key_id: !secret LEAK_TEST_KEY_ID\n"
        "aws_secret_access_key: !secret LEAK_TEST_SECRET\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    code = main(["run", str(manifest), "--input", "hi"])
    out, err = capsys.readouterr()
    assert code == 1, err
    if ending:  # refused where it is read, naming the secret, before any request
        assert "LEAK_TEST_KEY_ID" in err and "line break" in err, err
        assert echo_server.requests == 0  # type: ignore[attr-defined]
    else:
        assert "ProviderError" in err, err
        assert echo_server.requests >= 1  # type: ignore[attr-defined]
        assert "AccessDeniedException" in err
    assert_no_leak(out + err, KEY_ID + ending)
    assert_no_leak(out + err, SIGNING + ending)
