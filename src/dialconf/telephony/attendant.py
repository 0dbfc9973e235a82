"""The auto attendant: what dialconf says and does on a call, over a FastAGI channel.

The caller dials a service number; the attendant answers, switches the prompts to the number's
language, asks for the conference ID (`GET DATA`; `#` ends it, `*` then the PIN asks to lead) and
gives the caller three tries. It then sets DIALCONF_RESULT (join, rejected, locked or hangup),
DIALCONF_ROOM, DIALCONF_ROLE, DIALCONF_ORGANIZER and DIALCONF_MEETING and returns to the dialplan,
which joins `ConfBridge(${DIALCONF_ROOM})` (docs/asterisk.md). Typed digits and PINs are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Literal, Protocol

from dialconf.telephony.agi import Hangup, command, dialed_number, known, quote
from dialconf.telephony.server import Channel

Outcome = Literal["join", "invalid", "wrong_pin", "locked", "rejected"]
# how long the attendant keeps a number's language: it changes rarely, every call needs it before the
# first prompt, and keeping it saves each call a trip to the database; a change made meanwhile (by any
# process) is heard within this time. The conference ID itself is always resolved afresh.
LANGUAGE_TTL = 30.0
_LANGUAGES_KEPT = 1024  # dialed numbers remembered at most (a peer may send any text as one)


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the dial-in service made of one entry; `delay` is a pause to play first (a slowed bridge)."""

    outcome: Outcome
    room: str | None = None
    role: str | None = None  # participant | leader
    organizer: str | None = None
    meeting: str | None = None
    delay: float = 0.0


class Resolver(Protocol):
    """The dial-in service as the attendant sees it (blocking calls: the attendant runs them in a thread)."""

    def language(self, number: str) -> str | None: ...

    def resolve(self, number: str, digits: str, caller: str | None, pin: str | None) -> Resolution: ...


@dataclass(frozen=True)
class Prompts:
    """Sound file names (stock Asterisk ones by default) and how long to wait for digits."""

    get_id: str = "conf-getconfno"
    invalid_id: str = "conf-invalid"
    get_pin: str = "conf-getpin"
    invalid_pin: str = "conf-invalidpin"
    goodbye: str = "vm-goodbye"
    timeout_ms: int = 10_000
    max_digits: int = 24  # an ID, '*' and a PIN
    tries: int = 3


class Attendant:
    """Handles one call at a time per `answer` call; many calls run concurrently on one event loop."""

    def __init__(self, resolver: Resolver, prompts: Prompts | None = None) -> None:
        self._resolver = resolver
        self._prompts = prompts or Prompts()
        self._languages: dict[str, tuple[float, str | None]] = {}  # number -> (when asked, language)

    async def answer(self, channel: Channel) -> None:
        try:
            await self._call(channel)
        except Hangup:
            await _record_hangup(channel)
            raise

    async def _call(self, channel: Channel) -> None:
        prompts = self._prompts
        number = dialed_number(channel.headers)
        caller = known(channel.headers.get("agi_callerid"))
        await channel.send("ANSWER")
        if number is None:
            await self._goodbye(channel, "rejected")
            return
        language = await self._language(number)
        if language:
            await _set(channel, "CHANNEL(language)", language)
        for _ in range(prompts.tries):
            typed = await self._get_data(channel, prompts.get_id)
            digits, star, pin = typed.partition("*")
            if star and not pin:
                pin = await self._get_data(channel, prompts.get_pin)
            if not digits:
                await self._play(channel, prompts.invalid_id)
                continue
            # the loop's executor (a few threads, ServerThread): blocking database work off the event loop
            found = await asyncio.get_running_loop().run_in_executor(
                None, self._resolver.resolve, number, digits, caller, pin if star else None
            )
            if found.delay > 0:
                await asyncio.sleep(found.delay)
            if found.outcome == "join":
                await self._join(channel, found)
                return
            if found.outcome in ("locked", "rejected"):
                await self._goodbye(channel, found.outcome)
                return
            await self._play(channel, prompts.invalid_pin if found.outcome == "wrong_pin" else prompts.invalid_id)
        await self._goodbye(channel, "rejected")

    async def _language(self, number: str) -> str | None:
        loop = asyncio.get_running_loop()
        asked = loop.time()
        kept = self._languages.get(number)
        if kept is not None and asked - kept[0] < LANGUAGE_TTL:
            return kept[1]
        language = await loop.run_in_executor(None, self._resolver.language, number)
        if len(self._languages) >= _LANGUAGES_KEPT:
            self._languages.clear()
        self._languages[number] = (asked, language)
        return language

    async def _get_data(self, channel: Channel, sound: str) -> str:
        prompts = self._prompts
        reply = await channel.send(command("GET DATA", sound, str(prompts.timeout_ms), str(prompts.max_digits)))
        if reply.result == "-1" or channel.hung_up:
            raise Hangup("the caller hung up while prompted")
        return reply.result.strip()

    async def _play(self, channel: Channel, sound: str) -> None:
        reply = await channel.send(command("STREAM FILE", sound, '""'))
        if reply.result == "-1" or channel.hung_up:
            raise Hangup("the caller hung up while a prompt played")

    async def _join(self, channel: Channel, found: Resolution) -> None:
        await _set(channel, "DIALCONF_RESULT", "join")
        await _set(channel, "DIALCONF_ROOM", found.room or "")
        await _set(channel, "DIALCONF_ROLE", found.role or "participant")
        await _set(channel, "DIALCONF_ORGANIZER", found.organizer or "")
        if found.meeting:
            await _set(channel, "DIALCONF_MEETING", found.meeting)

    async def _goodbye(self, channel: Channel, result: str) -> None:
        await _set(channel, "DIALCONF_RESULT", result)
        await self._play(channel, self._prompts.goodbye)
        await channel.send("HANGUP")


async def _set(channel: Channel, name: str, value: str) -> None:
    await channel.send(command("SET VARIABLE", name, quote(value)))


async def _record_hangup(channel: Channel) -> None:
    """Tell the dialplan's `h` extension the call ended here (allowed on a dead channel); best effort."""
    with contextlib.suppress(Exception):
        await channel.send(command("SET VARIABLE", "DIALCONF_RESULT", quote("hangup")))
