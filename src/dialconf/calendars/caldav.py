"""A small CalDAV client (RFC 4791) on httpx: find a calendar's events from a moment on, read one, write one.

Only what a meeting migration needs: a calendar-query REPORT with a time range (the server expands
recurrences), GET of one event with its ETag, and a PUT with `If-Match` so that an edit made in the
meantime is never overwritten. httpx rather than the `caldav` package: that one pulls in niquests
and urllib3-future, which replaces the `urllib3` that requests relies on.

    CalDavError              the server could not be reached, or answered with an error status
     ├── CalendarNotFound    404: no calendar (or no event) at that URL
     └── EventChanged        412 on a conditional PUT: the event changed since it was read

Messages name the URL and what went wrong, never the credentials nor the body of the server's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree

import httpx

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
TIMEOUT_SECONDS = 15.0
_QUERY = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter>
    <C:comp-filter name="VCALENDAR">
      <C:comp-filter name="VEVENT"><C:time-range start="{start}"/></C:comp-filter>
    </C:comp-filter>
  </C:filter>
</C:calendar-query>
"""


class CalDavError(Exception):
    """The CalDAV server could not be reached or refused; the message is safe to show and to store."""


class CalendarNotFound(CalDavError):
    pass


class EventChanged(CalDavError):
    pass


@dataclass(frozen=True)
class CalendarObject:
    """One calendar object resource: its absolute URL, its ETag and its text as the server holds it."""

    href: str
    etag: str | None
    text: str


class CalDavClient:
    """The calendar collection at `url`, with HTTP Basic credentials when a user name is given."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self._origin = _origin(self.url)
        self._timeout = timeout
        auth = httpx.BasicAuth(username, password or "") if username else None
        self._http = httpx.Client(
            auth=auth,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": "dialconf"},
        )

    def __enter__(self) -> CalDavClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def events_from(self, start: datetime) -> list[CalendarObject]:
        """The calendar's events that have an occurrence ending after `start` (aware), with their text."""
        moment = start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        response = self._send(
            "REPORT",
            self.url,
            content=_QUERY.format(start=moment).encode("utf-8"),
            headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
        )
        if response.status_code != 207:
            raise self._refusal("REPORT", self.url, response)
        try:
            root = ElementTree.fromstring(response.content)
        except ElementTree.ParseError as exc:
            raise CalDavError(f"the calendar {self.url} answered with XML that cannot be read ({exc})") from None
        found: list[CalendarObject] = []
        for item in root.iter(f"{{{DAV}}}response"):
            href = item.findtext(f"{{{DAV}}}href")
            if not href:
                continue
            for propstat in item.iter(f"{{{DAV}}}propstat"):
                if " 200 " not in f"{propstat.findtext(f'{{{DAV}}}status') or ''} ":
                    continue
                data = propstat.find(f"{{{DAV}}}prop/{{{CALDAV}}}calendar-data")
                if data is None or not data.text:
                    continue
                absolute = self._resolve(href)
                if absolute is not None:
                    etag = propstat.findtext(f"{{{DAV}}}prop/{{{DAV}}}getetag")
                    found.append(CalendarObject(absolute, etag.strip() if etag else None, data.text))
        return found

    def get(self, href: str) -> CalendarObject:
        """One event's text exactly as the server sends it, with its ETag."""
        response = self._send("GET", href)
        if response.status_code != 200:
            raise self._refusal("GET", href, response)
        etag: str | None = response.headers.get("ETag")
        return CalendarObject(href, etag, response.content.decode("utf-8"))

    def put(self, href: str, text: str, *, etag: str) -> str | None:
        """Replace the event at `href` only if it still has `etag`; returns its new ETag (if the server says)."""
        response = self._send(
            "PUT",
            href,
            content=text.encode("utf-8"),
            headers={"If-Match": etag, "Content-Type": "text/calendar; charset=utf-8"},
        )
        if response.status_code == 412:
            raise EventChanged(f"the event {href} changed since it was read")
        if response.status_code not in (200, 201, 204):
            raise self._refusal("PUT", href, response)
        new_etag: str | None = response.headers.get("ETag")
        return new_etag

    def _resolve(self, href: str) -> str | None:
        """`href` as an absolute URL, or None if it leaves the calendar's server: credentials go nowhere else."""
        absolute = urljoin(self.url, href)
        return absolute if _origin(absolute) == self._origin else None

    def _send(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        try:
            return self._http.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.TimeoutException:
            raise CalDavError(f"the CalDAV server {self._origin} did not answer within {self._timeout:g} s") from None
        except httpx.HTTPError as exc:
            reason = str(exc)[:200] or type(exc).__name__
            raise CalDavError(f"cannot reach the CalDAV server {self._origin}: {reason}") from None

    def _refusal(self, method: str, url: str, response: httpx.Response) -> CalDavError:
        status = response.status_code
        if status in (401, 403):
            return CalDavError(
                f"the CalDAV server refused the tenant's credentials for {url} (HTTP {status} on {method}); "
                "check the CalDAV user name and password"
            )
        if status == 404:
            return CalendarNotFound(f"there is no calendar or event at {url} (HTTP 404 on {method})")
        return CalDavError(f"the CalDAV server answered HTTP {status} {response.reason_phrase} to {method} {url}")


# builds the client of one calendar: (calendar URL, user name, password); tests pass their own
Connector = Callable[[str, str | None, str | None], CalDavClient]


def connect(url: str, username: str | None, password: str | None) -> CalDavClient:
    """The default Connector: a real client with the default timeout."""
    return CalDavClient(url, username=username, password=password)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
