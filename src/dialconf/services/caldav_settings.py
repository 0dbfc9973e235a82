"""A tenant's CalDAV calendar setting: its URL, user name and password (docs/meetings.md, 'CalDAV calendars').

The password is sealed with the installation's secret key before it is stored (domain/sealed.py)
and is never shown: views say only whether a calendar is connected, and the audit log says only
that the password was set or changed.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import quote, urlsplit

from dialconf.domain import sealed
from dialconf.errors import CalendarUnavailable, InvalidSetting
from dialconf.store.models import Tenant
from dialconf.store.uow import UnitOfWork

PASSWORD_PURPOSE = "caldav password"
# in the URL, stands for the organizer's sign-in name: one calendar per user (Radicale's /USER/CALENDAR/)
UPN = "{upn}"
MAX_URL = 2000
MAX_USERNAME = 255
MAX_PASSWORD = 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_internal(url: str) -> bool:
    """Whether `url` names this machine or a private, link-local or otherwise non-public address.

    A name is looked up: one that resolves to such an address (this machine's own name, or a public
    name pointing at 127.0.0.1) is internal too. A name that does not resolve now is not: nothing
    can be reached through it yet.
    """
    host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    return any(not address.is_global for address in _addresses(host))


def host_of(url: str) -> str:
    """The host (and port, if any) a URL leads to, for messages: never its path or query."""
    return urlsplit(url.strip()).netloc.rpartition("@")[2]


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses `host` resolves to now; none when it does not resolve."""
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return []
    addresses = []
    for *_, sockaddr in found:
        try:
            addresses.append(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]))
        except ValueError:
            continue
    return addresses


def valid_url(url: str) -> str:
    """A CalDAV calendar URL: http(s), a host, no credentials or fragment in it; or raise InvalidSetting."""
    value = url.strip()
    if len(value) > MAX_URL or _CONTROL.search(value) or " " in value:
        raise InvalidSetting(f"a CalDAV URL has at most {MAX_URL} characters and no spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidSetting(
            f"'{value}' is not a CalDAV calendar URL: give an http:// or https:// address such as "
            "https://calendar.contoso.com/dialconf/meetings/"
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidSetting(
            "a CalDAV URL must not hold a user name or password: give them with --caldav-username and "
            "--caldav-password-stdin (or --caldav-password-file)"
        )
    if parts.fragment:
        raise InvalidSetting(f"a CalDAV URL has no '#' part: '{value}'")
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise InvalidSetting(f"'{value}' has a port that is not a number") from None
    rest = value.replace(UPN, "")
    if "{" in rest or "}" in rest:
        raise InvalidSetting(f"the only placeholder a CalDAV URL may hold is {UPN} (the organizer's sign-in name)")
    if UPN in parts.netloc:
        raise InvalidSetting(f"{UPN} may stand only in the path of a CalDAV URL")
    return value


def calendar_url(template: str, upn: str) -> str:
    """The organizer's calendar: the tenant's URL with {upn} replaced by the sign-in name (URL-encoded)."""
    return template.replace(UPN, quote(upn, safe="@"))


def valid_username(username: str) -> str:
    value = username.strip()
    if len(value) > MAX_USERNAME or _CONTROL.search(value) or ":" in value:
        raise InvalidSetting(
            f"a CalDAV user name has at most {MAX_USERNAME} characters, no ':' and no control characters"
        )
    return value


def valid_password(password: str) -> str:
    if not password:
        raise InvalidSetting("the CalDAV password is empty")
    if len(password) > MAX_PASSWORD or _CONTROL.search(password):
        raise InvalidSetting(
            f"a CalDAV password has at most {MAX_PASSWORD} characters and no line breaks or control characters"
        )
    return password


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def apply(
    uow: UnitOfWork, tenant: Tenant, *, url: str | None, username: str | None, password: str | None
) -> bool:
    """Change the tenant's CalDAV setting in the caller's transaction; returns whether the password changed.

    `url` "" disconnects (forgets the user name and password too); `username` "" means no
    credentials (a server without sign-in). A password stays with the server it was given for: moving
    the URL to another server needs the password again.
    """
    if url is None and username is None and password is None:
        return False
    if url == "" or (url is not None and not url.strip()):
        if username or password:
            raise InvalidSetting("--caldav-url '' disconnects the calendar; give no user name or password with it")
        had = tenant.caldav_password is not None
        tenant.caldav_url = tenant.caldav_username = tenant.caldav_password = None
        return had
    new_url = valid_url(url) if url is not None else tenant.caldav_url
    if new_url is None:
        raise InvalidSetting(
            f"tenant '{tenant.name}' has no CalDAV calendar yet: give its URL with --caldav-url"
        )
    new_username = valid_username(username) if username is not None else tenant.caldav_username
    new_password = valid_password(password) if password is not None else None
    keeps_password = new_password is None and tenant.caldav_password is not None and bool(new_username)
    if keeps_password and tenant.caldav_url and _origin(new_url) != _origin(tenant.caldav_url):
        raise InvalidSetting(
            "the CalDAV URL moves to another server; give the password for it again "
            "(--caldav-password-stdin or --caldav-password-file): a stored password is only sent to the "
            "server it was given for"
        )
    if new_password is not None and not new_username:
        raise InvalidSetting("a CalDAV password needs a user name: give --caldav-username too")
    tenant.caldav_url = new_url
    tenant.caldav_username = new_username or None
    if not new_username:
        changed = tenant.caldav_password is not None
        tenant.caldav_password = None
        return changed
    if new_password is not None:
        tenant.caldav_password = sealed.seal(uow.pin_key, PASSWORD_PURPOSE, new_password)
        return True
    return False


def password_of(uow: UnitOfWork, tenant: Tenant) -> str | None:
    """The tenant's CalDAV password in clear, for the request only; raise CalendarUnavailable if it cannot be opened."""
    if tenant.caldav_password is None:
        return None
    try:
        return sealed.unseal(uow.pin_key, PASSWORD_PURPOSE, tenant.caldav_password)
    except sealed.SealBroken:
        raise CalendarUnavailable(
            f"the stored CalDAV password of tenant '{tenant.name}' cannot be read with this installation's "
            f"secret key (was DIALCONF_SECRET_KEY changed?); set it again: dialconf tenant set {tenant.name} "
            "--caldav-password-stdin"
        ) from None
