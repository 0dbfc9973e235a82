"""Rendering the MIME message, the retry backoff and the HTML rules of the templates: pure code, no I/O."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from random import Random

import pytest

from dialconf.mail.compose import DialNumber, MailInfo, MailKind, compose
from dialconf.mail.message import render_message
from dialconf.services.delivery import DeliveryPolicy, retry_delay

WHEN = datetime(2030, 5, 17, 8, 30, tzinfo=UTC)


def render(**overrides: object) -> bytes:
    fields: dict[str, object] = {
        "from_addr": "dialin@contoso.com",
        "from_name": "Contoso IT",
        "to_addr": "ada@contoso.com",
        "subject": "Your conference ID has changed",
        "message_id": "<abc123@contoso.com>",
        "date": WHEN,
        "body_text": "Hello Ada,\n\n.a line starting with a dot\nConference ID: 123 456 7#\n",
        "body_html": '<p style="margin:0">Hello Ada, 123 456 7#</p>\n',
    }
    fields.update(overrides)
    return render_message(**fields)  # type: ignore[arg-type]


def parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_message_has_headers_from_the_row_and_text_and_html_alternatives() -> None:
    msg = parse(render())
    assert str(msg["From"]) == "Contoso IT <dialin@contoso.com>"
    assert str(msg["To"]) == "ada@contoso.com"
    assert str(msg["Message-ID"]) == "<abc123@contoso.com>"
    assert msg["Date"].datetime == WHEN
    assert msg.get_content_type() == "multipart/alternative"
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    assert (
        text.get_content().replace("\r\n", "\n")
        == "Hello Ada,\n\n.a line starting with a dot\nConference ID: 123 456 7#\n"
    )
    assert html.get_content().replace("\r\n", "\n") == '<p style="margin:0">Hello Ada, 123 456 7#</p>\n'
    assert all(not part.defects for part in msg.walk())


def test_lines_end_in_crlf_and_stay_short() -> None:
    data = render(body_text="word " * 400 + "\n", body_html="<p>" + "x" * 3000 + "</p>")
    lines = data.split(b"\r\n")
    assert b"\n" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 78


def test_a_resend_is_byte_identical() -> None:
    assert render() == render()


def test_non_ascii_names_and_subjects_are_encoded() -> None:
    data = render(from_name="Zoë Müller, IT", subject="Grüße " * 15)
    assert data.split(b"\r\n\r\n", 1)[0].isascii()
    msg = parse(data)
    assert msg["From"].addresses[0].display_name == "Zoë Müller, IT"
    assert str(msg["Subject"]) == ("Grüße " * 15).strip()


def test_header_injection_through_the_subject_is_impossible() -> None:
    msg = parse(render(subject="Hello\r\nBcc: victim@example.com"))
    assert msg["Bcc"] is None


def test_an_invitation_is_attached_as_ics() -> None:
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    msg = parse(render(ics=ics))
    assert msg.get_content_type() == "multipart/mixed"
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "invite.ics" and attachment.get_param("method") == "REQUEST"
    assert attachment.get_content() == ics
    assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None


@pytest.mark.parametrize("attempts", [1, 2, 3, 6, 12, 40])
def test_backoff_doubles_with_jitter_up_to_the_cap(attempts: int) -> None:
    policy = DeliveryPolicy(first_retry=timedelta(minutes=1), max_retry=timedelta(hours=2))
    ceiling = min(timedelta(hours=2), timedelta(minutes=1) * 2 ** (attempts - 1))
    waits = {retry_delay(attempts, policy, Random(seed)) for seed in range(50)}
    assert all(ceiling / 2 <= w <= ceiling for w in waits)
    assert len(waits) > 40  # jittered: workers that failed together do not retry together


INFO = MailInfo(
    org="Contoso",
    display_name="Ada <b>Lovelace</b>",
    conference_id="123 456 7#",
    dynamic=False,
    toll=DialNumber("+1 425-555-0100", "Seattle"),
    toll_free=DialNumber("+1 800-555-0199", ""),
    all_numbers_url="https://dialin.contoso.com/dialin/contoso",
    meeting_migration=True,
    previous_conference_id="765 432 1#",
    extra={"reason": "Dial-in was turned off for you."},
)


@pytest.mark.parametrize("kind", list(MailKind))
def test_every_html_template_is_inline_styled_without_scripts_and_escapes_names(kind: MailKind) -> None:
    info = (
        INFO
        if kind not in (MailKind.WELCOME, MailKind.PIN_RESET)
        else MailInfo(**{**INFO.__dict__, "pin": "482913"})
    )
    html = compose(kind, info).html.lower()
    assert "<script" not in html and "javascript:" not in html and " on" + "click" not in html
    assert "<style" not in html and "<link" not in html
    assert 'style="' in html
    assert "ada &lt;b&gt;lovelace&lt;/b&gt;" in html


def test_only_welcome_and_pin_reset_may_carry_a_pin() -> None:
    with_pin = MailInfo(**{**INFO.__dict__, "pin": "482913"})
    for kind in MailKind:
        if kind in (MailKind.WELCOME, MailKind.PIN_RESET):
            assert "482913" in compose(kind, with_pin).text
        else:
            with pytest.raises(ValueError):
                compose(kind, with_pin)
