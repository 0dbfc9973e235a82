"""What a helpdesk account sees and may do, the public dial-in page, and axe-core on the main pages."""

from __future__ import annotations

import re
from typing import Any

import httpx
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot, sign_in
from tests.conftest import ENABLE_ADA
from tests.web.conftest import ADMIN, HELPDESK, OPERATOR, LiveServer, WebWorld

SERIOUS = {"serious", "critical"}


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of impact serious or critical (axe is injected through DevTools, past the CSP)."""
    results = Axe().run(page)
    found = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    return [{"id": v["id"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"]][:3]} for v in found]


def test_a_helpdesk_account_sees_no_settings_link_and_its_settings_post_is_refused(
    page: Page, web_world: WebWorld, live_server: LiveServer
) -> None:
    before = web_world.cli.ok("tenant", "show", "contoso")
    sign_in(page, live_server, HELPDESK)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Users")).to_be_visible()
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)
    csrf = page.locator("form[action='/signout'] input[name=csrf]").get_attribute("value")
    assert csrf
    # the form a helpdesk page never shows, posted anyway with the session and a valid CSRF token
    answer = page.request.post(
        live_server.url + "/settings",
        form={"csrf": csrf, "tenant": "contoso", "pin_length": "8"},
        max_redirects=0,
    )
    assert answer.status == 403
    assert "may not" in answer.text() or "Forbidden" in answer.text()
    after = web_world.cli.ok("tenant", "show", "contoso")
    assert after["pin_length"] == before["pin_length"] and after["auto_email"] == before["auto_email"]
    # and the settings page itself offers no form to save
    page.goto(live_server.url + "/settings")
    expect(page.get_by_role("button", name="Save settings")).to_have_count(0)


def test_an_admin_sees_the_id_mode_read_only_with_a_line_to_ask_the_operator(
    page: Page, web_world: WebWorld, live_server: LiveServer
) -> None:
    sign_in(page, live_server, ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.get_by_text("ask your operator")).to_be_visible()
    expect(page.get_by_role("button", name="Change mode")).to_have_count(0)
    expect(page.get_by_label("Leader PIN length")).to_be_editable()


def test_the_public_dial_in_page_lists_the_numbers_as_tel_links_without_sign_in(
    page: Page, web_world: WebWorld, live_server: LiveServer
) -> None:
    page.goto(live_server.url + "/dialin/contoso")
    expect(page.get_by_role("heading", name="Dial-in numbers")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Seattle"))).to_be_visible()
    expect(page.locator("a[href='tel:+14255550100']")).to_have_text("+1 425-555-0100")
    expect(page.locator("a[href='tel:+18005550199']")).to_be_visible()
    assert "contoso.com" not in page.content()  # nothing else about the tenant
    assert httpx.get(live_server.url + "/dialin/no-such-tenant").status_code == 404


def test_the_users_page_the_pane_with_its_dialog_and_the_settings_page_have_no_serious_axe_violation(
    page: Page, web_world: WebWorld, live_server: LiveServer
) -> None:
    web_world.cli.ok(*ENABLE_ADA)
    sign_in(page, live_server, ADMIN)
    assert serious_violations(page) == []

    page.get_by_role("link", name="Ada", exact=True).click()
    page.get_by_role("link", name="Reset conference ID").click()
    expect(page.get_by_role("dialog", name="Reset conference ID?")).to_be_visible()
    assert serious_violations(page) == []

    page.goto(live_server.url + "/settings")
    expect(page.get_by_role("heading", name="Tenant settings")).to_be_visible()
    screenshot(page, "settings.png")
    assert serious_violations(page) == []


def test_the_operator_pages_for_tenants_and_admin_accounts_have_no_serious_axe_violation(
    page: Page, web_world: WebWorld, live_server: LiveServer
) -> None:
    sign_in(page, live_server, OPERATOR)
    for link in ("Tenants", "Admin accounts", "Bridge & numbers", "Mail", "Audit"):
        page.get_by_role("navigation", name="Main").get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert serious_violations(page) == [], link
