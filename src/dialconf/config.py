"""Settings from the environment (prefix DIALCONF_), built by `Settings.from_env`, never at import."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dialconf.errors import DialconfError

DATABASE_FILE_NAME = "dialconf.db"
SECRET_FILE_NAME = "dialconf.secret"
CAUGHT_MAIL_DIR = "caught-mail"
MIN_KEY_LENGTH = 32


def data_dir() -> Path:
    """The per-user data folder of the embedded default; on Linux $XDG_DATA_HOME/dialconf or ~/.local/share/dialconf.

    Computed when asked (platformdirs reads XDG_DATA_HOME then), never created here.
    """
    from platformdirs import user_data_dir

    return Path(user_data_dir("dialconf", appauthor=False))


def default_database_url() -> str:
    """The embedded SQLite database used when DIALCONF_DATABASE_URL is not set: one per user, found from anywhere."""
    return f"sqlite:///{data_dir() / DATABASE_FILE_NAME}"


class ConfigError(DialconfError):
    status = 500


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None = None
    port: int = 25
    security: str = "none"  # none | starttls | tls
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    secret_key: str | None = field(default=None, repr=False)
    actor: str | None = None
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    public_url: str = "http://localhost:8080"
    sqlite_busy_timeout_ms: int = 30_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        security = env.get("DIALCONF_SMTP_SECURITY", "none").strip().lower() or "none"
        if security not in ("none", "starttls", "tls"):
            raise ConfigError(f"DIALCONF_SMTP_SECURITY must be none, starttls or tls, not '{security}'")
        try:
            port = int(env.get("DIALCONF_SMTP_PORT") or (465 if security == "tls" else 25))
            timeout = float(env.get("DIALCONF_SMTP_TIMEOUT") or 30)
        except ValueError as exc:
            raise ConfigError(
                f"DIALCONF_SMTP_PORT and DIALCONF_SMTP_TIMEOUT must be numbers ({exc})"
            ) from exc
        busy = env.get("DIALCONF_SQLITE_BUSY_TIMEOUT_MS") or "30000"
        if not busy.strip().isdigit():
            raise ConfigError(
                f"DIALCONF_SQLITE_BUSY_TIMEOUT_MS must be a whole number of milliseconds, not '{busy}'"
            )
        smtp = SmtpSettings(
            host=env.get("DIALCONF_SMTP_HOST") or None,
            port=port,
            security=security,
            username=env.get("DIALCONF_SMTP_USERNAME") or None,
            password=env.get("DIALCONF_SMTP_PASSWORD") or None,
            timeout=timeout,
        )
        return cls(
            database_url=env.get("DIALCONF_DATABASE_URL") or default_database_url(),
            secret_key=env.get("DIALCONF_SECRET_KEY") or None,
            actor=env.get("DIALCONF_ACTOR") or None,
            smtp=smtp,
            public_url=env.get("DIALCONF_PUBLIC_URL") or "http://localhost:8080",
            sqlite_busy_timeout_ms=int(busy),
        )

    @property
    def is_embedded(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite:///"
        if not self.database_url.startswith(prefix):
            return None
        path = self.database_url[len(prefix) :].split("?", 1)[0]
        return None if path in ("", ":memory:") else Path(path)

    def uses_data_dir(self) -> bool:
        """Whether the database is the embedded default in the per-user data folder (which may not exist yet)."""
        return self.sqlite_path() == data_dir() / DATABASE_FILE_NAME

    def caught_mail_dir(self) -> Path | None:
        """Where `dialconf up`'s mail catcher keeps copies: beside the SQLite database; None on PostgreSQL."""
        path = self.sqlite_path()
        return path.parent / CAUGHT_MAIL_DIR if path else None

    def pin_key(self) -> bytes:
        """The secret key for PIN hashes: DIALCONF_SECRET_KEY, or on SQLite a key file beside the database."""
        if self.secret_key:
            if len(self.secret_key) < MIN_KEY_LENGTH:
                raise ConfigError(
                    f"DIALCONF_SECRET_KEY has {len(self.secret_key)} characters; it must have at least "
                    f"{MIN_KEY_LENGTH}, for example: export DIALCONF_SECRET_KEY=$(python3 -c 'import secrets; "
                    "print(secrets.token_hex(32))') (a new key makes every leader PIN set so far invalid)"
                )
            return self.secret_key.encode()
        path = self.sqlite_path()
        if path is None:
            raise ConfigError(
                "DIALCONF_SECRET_KEY is not set; PostgreSQL deployments must set it (the same value on every "
                "machine), for example: export DIALCONF_SECRET_KEY=$(python3 -c 'import secrets; "
                "print(secrets.token_hex(32))')"
            )
        return load_or_create_key(path.parent / SECRET_FILE_NAME)


def load_or_create_key(path: Path) -> bytes:
    """Read the key file, creating it (mode 600) on first use; processes starting together agree on one key.

    A new key is written whole to a private temporary file, then linked to its final name: the link
    fails if another process got there first, and then that process's key is the one read.
    """
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(key + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _read_key(path)
    finally:
        temporary.unlink(missing_ok=True)
    return key


def _read_key(path: Path) -> bytes:
    key = path.read_bytes().strip()
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(
            f"the PIN key file {path} is empty or shorter than {MIN_KEY_LENGTH} characters; restore it from "
            "a backup, or delete it to have a new key made (every leader PIN set so far must then be reset)"
        )
    return key
