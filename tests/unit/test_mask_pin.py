"""mask_pin hides the PIN wherever the templates print it, and changes nothing else."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dialconf.mail.compose import CARRIES_PIN, PIN_MASK, MailKind, compose, mask_pin
from tests.unit.test_mail_message import INFO

PIN = "482913"


@pytest.mark.parametrize("kind", sorted(CARRIES_PIN))
def test_the_pin_is_masked_in_the_text_and_the_html_of_every_pin_mail(kind: MailKind) -> None:
    composed = compose(kind, replace(INFO, pin=PIN))
    assert PIN in composed.text and PIN in composed.html
    for body in (composed.text, composed.html):
        masked = mask_pin(body)
        assert PIN not in masked and PIN_MASK in masked
        assert masked.replace(PIN_MASK, PIN) == body  # only the PIN changed


@pytest.mark.parametrize("kind", sorted(set(MailKind) - CARRIES_PIN))
def test_a_mail_without_a_pin_is_left_as_it_is(kind: MailKind) -> None:
    composed = compose(kind, INFO)
    assert mask_pin(composed.text) == composed.text and mask_pin(composed.html) == composed.html
