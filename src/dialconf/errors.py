"""Errors that services raise and every surface renders.

    DialconfError                 base; .status is the HTTP status an API would answer with
     ├── NotSignedIn (401)        no session or token, or an unknown, expired or revoked one
     ├── TooManySignIns (429)     sign-in refused for a while after repeated failures
     ├── NotFound (404)           TenantNotFound, BridgeNotFound, UserNotFound, NumberNotFound, MailNotFound, AdminNotFound, TokenNotFound
     ├── Forbidden (403)          the actor's role or tenant does not allow the action
     ├── Conflict (409)           AlreadyExists, ConferenceIdTaken, ConferenceIdQuarantined, ConferenceIdSpaceExhausted
     ├── Invalid (422)            InvalidConferenceId, InvalidPhoneNumber, InvalidSetting, InvalidInput, NotAllowedForProvider
     ├── DatabaseUnavailable (503) the store cannot open or reach its database (raised by the store layer)
     ├── DatabaseBusy (503)        SQLite stayed locked by another writer past the busy timeout
     └── CalendarUnavailable (503) a tenant's CalDAV calendar could not be read or written

A surface maps these to its own language (HTTP status, CLI exit code 1 with one line on stderr);
anything else that escapes a service is a bug.
"""

from __future__ import annotations


class DialconfError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DialconfError):
    status = 404


class NotSignedIn(DialconfError):
    status = 401

    def __init__(self, message: str = "sign in first, or send a valid API token") -> None:
        super().__init__(message)


class TooManySignIns(DialconfError):
    status = 429


class Forbidden(DialconfError):
    status = 403


class Conflict(DialconfError):
    status = 409


class Invalid(DialconfError):
    status = 422


class TenantNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"tenant '{name}' does not exist")


class BridgeNotFound(NotFound):
    def __init__(self, tenant: str, name: str | None = None) -> None:
        what = f"bridge '{name}'" if name else "a bridge"
        super().__init__(f"tenant '{tenant}' has no {what}")


class UserNotFound(NotFound):
    def __init__(self, upn: str) -> None:
        super().__init__(f"user '{upn}' does not exist")


class NumberNotFound(NotFound):
    def __init__(self, number: str, where: str = "") -> None:
        super().__init__(f"service number {number} is not {where or 'known'}")


class MailNotFound(NotFound):
    def __init__(self, mail_id: int) -> None:
        super().__init__(f"mail {mail_id} does not exist")


class AdminNotFound(NotFound):
    def __init__(self, email: str) -> None:
        super().__init__(f"admin account '{email}' does not exist")


class TokenNotFound(NotFound):
    def __init__(self, token_id: int) -> None:
        super().__init__(f"API token {token_id} does not exist")


class AlreadyExists(Conflict):
    pass


class ConferenceIdTaken(Conflict):
    def __init__(self, digits: str) -> None:
        super().__init__(f"conference ID {digits} is already in use on this bridge")


class ConferenceIdQuarantined(Conflict):
    def __init__(self, digits: str, until: str) -> None:
        super().__init__(
            f"conference ID {digits} was released recently and is quarantined until {until}; choose another"
        )


class ConferenceIdSpaceExhausted(Conflict):
    def __init__(self, bridge: str, length: int) -> None:
        super().__init__(
            f"bridge '{bridge}' has no free {length}-digit conference ID left "
            "(every usable ID is live or quarantined); create another bridge or shorten the quarantine"
        )


class InvalidConferenceId(Invalid):
    pass


class InvalidPhoneNumber(Invalid):
    pass


class InvalidSetting(Invalid):
    pass


class InvalidInput(Invalid):
    pass


class NotAllowedForProvider(Invalid):
    pass


class DatabaseUnavailable(DialconfError):
    """The database cannot be opened or reached: nothing was done, and nothing in the input is wrong."""

    status = 503


class CalendarUnavailable(DialconfError):
    """A tenant's CalDAV calendar could not be read or written; the message names no secret."""

    status = 503


class DatabaseBusy(DialconfError):
    """The SQLite database stayed locked by another writer past the busy timeout: try again later.

    Services let the driver's OperationalError through (the mail worker waits and retries on it);
    an entry point turns it into this refusal with `store.db.refusal_for`.
    """

    status = 503

    def __init__(self) -> None:
        super().__init__("the database is busy (another dialconf command is writing); try again")
