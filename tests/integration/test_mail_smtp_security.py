"""DIALCONF_SMTP_SECURITY (none, starttls, tls) and login, against real aiosmtpd servers with a test certificate."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.conftest import Cli, seed_tenant
from tests.support.outbox import outbox_rows
from tests.support.smtp import SmtpServer, smtp_server

USER, PASSWORD = "mailer", "s3cret-pass"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate file, key file)."""
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    if shutil.which("openssl"):
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", str(key_file), "-out", str(cert_file), "-days", "2",
                "-subj", "/CN=dialconf test SMTP", "-addext", "subjectAltName=IP:127.0.0.1",
                "-addext", "basicConstraints=critical,CA:TRUE",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )  # fmt: skip
        return cert_file, key_file
    return _certificate_with_cryptography(cert_file, key_file)


def _certificate_with_cryptography(cert_file: Path, key_file: Path) -> tuple[Path, Path]:
    x509 = pytest.importorskip(
        "cryptography.x509", reason="neither openssl nor cryptography to make a certificate"
    )
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dialconf test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*certificate)
    return ctx


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword) and data.login == USER.encode() and data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def trusting(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the client trust the test certificate, as an operator would with their own CA."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))


def use(monkeypatch: pytest.MonkeyPatch, server: SmtpServer, security: str, password: str | None) -> None:
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DIALCONF_SMTP_SECURITY", security)
    monkeypatch.setenv("DIALCONF_SMTP_USERNAME", USER)
    if password is None:
        monkeypatch.delenv("DIALCONF_SMTP_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("DIALCONF_SMTP_PASSWORD", password)


@pytest.fixture
def queued(sqlite_cli: Cli) -> Cli:
    seed_tenant(sqlite_cli)
    sqlite_cli.ok(
        "user", "enable", "ada@contoso.com", "--tenant", "contoso",
        "--email", "ada@contoso.com", "--name", "Ada Lovelace", "--send-email",
    )  # fmt: skip
    return sqlite_cli


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    with smtp_server(
        tls_context=server_context(certificate),
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    ) as server:
        yield server


def test_starttls_with_login_delivers_over_an_encrypted_authenticated_session(
    queued: Cli, starttls_server: SmtpServer, trusting: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, starttls_server, "starttls", PASSWORD)
    assert queued.ok("mail", "send-pending")["sent"] == 1
    [message] = starttls_server.handler.messages()
    assert message.tls and message.authenticated


def test_implicit_tls_with_login_delivers(
    queued: Cli, certificate: tuple[Path, Path], trusting: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server(
        ssl_context=server_context(certificate), authenticator=authenticator, auth_require_tls=False
    ) as server:
        use(monkeypatch, server, "tls", PASSWORD)
        assert queued.ok("mail", "send-pending")["sent"] == 1
        [message] = server.handler.messages()
    assert message.tls and message.authenticated


def test_a_refused_login_keeps_mail_queued_and_says_why(
    queued: Cli, starttls_server: SmtpServer, trusting: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, starttls_server, "starttls", "wrong")
    result = queued.ok("mail", "send-pending")
    assert result["sent"] == 0 and result["not_attempted"] == 1
    assert f"login as {USER} refused: 535" in result["server_error"]
    [row] = outbox_rows(queued.url)
    assert row.status == "queued" and row.attempts == 0
    assert starttls_server.handler.messages() == []


def test_an_untrusted_certificate_is_refused(
    queued: Cli, starttls_server: SmtpServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "no-ca.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    use(monkeypatch, starttls_server, "starttls", PASSWORD)
    result = queued.ok("mail", "send-pending")
    assert result["sent"] == 0 and "CERTIFICATE_VERIFY_FAILED" in result["server_error"]
    assert starttls_server.handler.messages() == []


def test_starttls_required_but_not_offered_is_a_clear_error(
    queued: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server() as plain:
        use(monkeypatch, plain, "starttls", PASSWORD)
        result = queued.ok("mail", "send-pending")
        assert "does not offer STARTTLS" in result["server_error"]
        assert plain.handler.messages() == []
