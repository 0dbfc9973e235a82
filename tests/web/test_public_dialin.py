"""The public dial-in numbers page (no sign-in) and the tel: links in the emails' HTML."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from dialconf.services import directory
from tests.conftest import ENABLE_ADA
from tests.web.conftest import WebWorld


def test_the_dial_in_page_groups_a_tenants_numbers_by_city_without_sign_in(
    web_world: WebWorld, client: TestClient
) -> None:
    web_world.cli.ok(
        "number",
        "add",
        "contoso",
        "+33170000000",
        "--city",
        "Paris",
        "--language",
        "fr-FR",
        "--language",
        "en-US",
    )
    page = client.get("/dialin/contoso")
    assert page.status_code == 200
    headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", page.text)
    assert headings == ["Paris · FR", "Seattle · US", "Any city · US"]
    assert '<a href="tel:+33170000000">' in page.text and "fr-FR, en-US" in page.text
    assert '<a href="tel:+14255550100">' in page.text and '<a href="tel:+18005550199">' in page.text
    # nothing else about the tenant: not its domain, bridge, settings or accounts
    for secret in ("contoso.com", "Bridge", "bridge", "Sign out", "noreply", "admin@"):
        assert secret not in page.text


def test_the_dial_in_page_of_an_unknown_tenant_is_a_404_page(client: TestClient) -> None:
    page = client.get("/dialin/fabrikam")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]


def test_public_numbers_show_one_tenants_numbers_only(web_world: WebWorld) -> None:
    web_world.cli.ok("tenant", "create", "fabrikam", "--domain", "fabrikam.com")
    web_world.cli.ok("bridge", "create", "fabrikam", "main")
    web_world.cli.ok("number", "add", "fabrikam", "+14255550177", "--city", "Seattle")
    places = directory.public_dialin_numbers(web_world.cli.uow(), "contoso")
    assert sorted(n.number for p in places for n in p.numbers) == ["+14255550100", "+18005550199"]


def test_the_emails_html_numbers_are_tel_links(web_world: WebWorld) -> None:
    web_world.cli.ok(*ENABLE_ADA)
    mails = web_world.cli.ok("mail", "list")
    welcome = web_world.cli.ok("mail", "show", str(mails[0]["id"]))
    assert '<a href="tel:+14255550100"' in welcome["body_html"]
