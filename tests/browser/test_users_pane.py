"""Audio conferencing → Users and the action pane, in Chromium, as an admin would use them."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot, sign_in
from tests.conftest import ENABLE_ADA
from tests.support.smtp import SmtpServer
from tests.web.conftest import ADMIN, LiveServer, WebWorld

ADA = "ada@contoso.com"


def enable_users(world: WebWorld) -> str:
    """Ada and a few colleagues; returns Ada's conference ID."""
    world.cli.ok(*ENABLE_ADA)
    for name in ("Grace", "Alan", "Edsger", "Barbara"):
        world.cli.ok(
            "user", "enable", f"{name.lower()}@contoso.com", "--tenant", "contoso", "--name", f"{name} Example",
            "--email", f"{name.lower()}@contoso.com", "--no-email",
        )  # fmt: skip
    return str(world.cli.ok("user", "show", ADA)["conference_id"])


def open_ada(page: Page) -> None:
    page.get_by_label("Search").fill("Ada")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Ada", exact=True).click()
    expect(page.get_by_role("heading", name="Ada", exact=True)).to_be_visible()


def test_an_admin_finds_a_user_by_name_and_opens_its_action_pane(
    page: Page, web_world: WebWorld, live_server: LiveServer
) -> None:
    enable_users(web_world)
    sign_in(page, live_server, ADMIN)
    expect(page.get_by_role("status")).to_contain_text("of 5 users")
    screenshot(page, "users.png")
    page.get_by_label("Search").fill("ada")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.users tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(ADA)
    page.get_by_role("link", name="Ada", exact=True).click()
    expect(page.locator("#pane")).to_contain_text("Conference ID")
    expect(page).to_have_url(re.compile(r"/users/ada%40contoso\.com"))


def test_an_admin_finds_a_user_by_conference_id_typed_with_spaces_and_hash(
    page: Page, web_world: WebWorld, live_server: LiveServer
) -> None:
    digits = enable_users(web_world)
    sign_in(page, live_server, ADMIN)
    page.get_by_label("Search").fill(f"{digits[:3]} {digits[3:]}#")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table.users tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(ADA)


def test_yes_in_the_reset_dialog_shows_a_new_id_without_reload_and_mails_it(
    page: Page, web_world: WebWorld, live_server: LiveServer, smtp: SmtpServer
) -> None:
    old = enable_users(web_world)
    sign_in(page, live_server, ADMIN)
    open_ada(page)
    screenshot(page, "action-pane.png")
    page.evaluate("window.__same_document = true")  # gone if the page reloads
    page.get_by_role("link", name="Reset conference ID").click()
    dialog = page.get_by_role("dialog", name="Reset conference ID?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Send the new ID to the user by email")).to_be_checked()  # auto_email is on
    expect(dialog.get_by_role("button", name="Yes")).to_be_focused()
    screenshot(page, "reset-dialog.png")
    dialog.get_by_role("button", name="Yes").click()
    notice = page.locator("#pane-notice")
    expect(notice).to_contain_text("New conference ID")
    new = re.search(r"\d{7}", notice.inner_text())
    assert new is not None, notice.inner_text()
    assert new.group() != old
    expect(page.locator("#conference-id")).to_have_text(re.compile(r"^\d{3} \d{3} \d#$"))
    assert page.locator("#conference-id").inner_text().replace(" ", "").rstrip("#") == new.group()
    assert page.evaluate("window.__same_document") is True
    assert web_world.cli.ok("user", "show", ADA)["conference_id"] == new.group()

    web_world.cli.ok("mail", "send-pending")
    spoken = f"{new.group()[:3]} {new.group()[3:6]} {new.group()[6:]}"  # as the mail prints it for callers
    mailed = [m for m in smtp.handler.for_recipient(ADA) if spoken in m.text() or new.group() in m.text()]
    assert mailed, [m.message["Subject"] for m in smtp.handler.messages()]


def test_no_in_the_reset_dialog_changes_nothing(
    page: Page, web_world: WebWorld, live_server: LiveServer
) -> None:
    old = enable_users(web_world)
    sign_in(page, live_server, ADMIN)
    open_ada(page)
    page.get_by_role("link", name="Reset conference ID").click()
    page.get_by_role("dialog", name="Reset conference ID?").get_by_role("link", name="No").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert page.locator("#conference-id").inner_text().replace(" ", "").rstrip("#") == old
    assert web_world.cli.ok("user", "show", ADA)["conference_id"] == old
    assert not any(e["action"] == "user.reset_conference_id" for e in web_world.cli.ok("audit", "list"))


def test_a_new_leader_pin_is_shown_once_and_never_again_on_reload(
    page: Page, web_world: WebWorld, live_server: LiveServer
) -> None:
    enable_users(web_world)
    sign_in(page, live_server, ADMIN)
    open_ada(page)
    page.get_by_role("link", name="Reset leader PIN").click()
    dialog = page.get_by_role("dialog", name="Reset leader PIN?")
    dialog.get_by_label("Send the new PIN to the user by email").uncheck()
    dialog.get_by_role("button", name="Yes").click()
    pin = page.locator("#new-pin")
    expect(pin).to_have_text(re.compile(r"^\d{4,}$"))
    shown = pin.inner_text()
    page.reload()
    expect(page.locator("#pin-mask")).to_be_visible()
    expect(page.locator("#new-pin")).to_have_count(0)
    assert shown not in page.content()
    page.goto(page.url)
    assert shown not in page.content()


def test_a_third_party_id_typed_on_the_properties_page_is_saved_and_a_bad_one_is_refused_beside_the_field(
    page: Page, web_world: WebWorld, live_server: LiveServer
) -> None:
    enable_users(web_world)
    web_world.cli.ok(
        "user", "set-acp", ADA, "--provider-name", "Acme Audio", "--toll-number", "+14255550111",
        "--participant-passcode", "24680", "--no-email",
    )  # fmt: skip
    sign_in(page, live_server, ADMIN)
    open_ada(page)
    page.get_by_role("link", name="User properties").click()
    field = page.get_by_label("Conference ID from the provider")
    field.fill("12 34 56 78")
    page.get_by_role("button", name="Save conference ID").click()
    expect(page.get_by_role("status")).to_contain_text("Conference ID saved")
    assert web_world.cli.ok("user", "show", ADA)["conference_id"] == "12345678"

    page.get_by_label("Conference ID from the provider").fill("12ab")
    page.get_by_role("button", name="Save conference ID").click()
    error = page.locator("#e-conference_id")
    cli = web_world.cli("user", "set-conference-id", ADA, "12ab")
    assert cli.code == 1
    expect(error).to_have_text(cli.err.strip().removeprefix("dialconf: "))
    expect(page.get_by_label("Conference ID from the provider")).to_have_attribute("aria-invalid", "true")
    assert web_world.cli.ok("user", "show", ADA)["conference_id"] == "12345678"


def test_a_reset_can_be_done_with_the_keyboard_alone(
    page: Page, web_world: WebWorld, live_server: LiveServer
) -> None:
    old = enable_users(web_world)
    sign_in(page, live_server, ADMIN)
    page.goto(f"{live_server.url}/users/{ADA}")
    expect(page.get_by_role("heading", name="Ada", exact=True)).to_be_focused()  # the pane takes the focus
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Reset conference ID")).to_be_focused()
    page.keyboard.press("Enter")
    yes = page.get_by_role("dialog", name="Reset conference ID?").get_by_role("button", name="Yes")
    expect(yes).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#pane-notice")).to_contain_text("New conference ID")
    expect(page.get_by_role("heading", name="Ada", exact=True)).to_be_focused()  # focus is not lost
    assert web_world.cli.ok("user", "show", ADA)["conference_id"] != old


def test_on_a_narrow_screen_the_pane_sits_below_the_list(
    page: Page, web_world: WebWorld, live_server: LiveServer
) -> None:
    enable_users(web_world)
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, live_server, ADMIN)
    page.goto(f"{live_server.url}/users/{ADA}")
    table = page.locator("table.users").bounding_box()
    pane = page.locator("#pane").bounding_box()
    assert table is not None and pane is not None
    assert pane["y"] >= table["y"] + table["height"]
    assert pane["width"] <= 375
    no_sideways_scroll = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_sideways_scroll
