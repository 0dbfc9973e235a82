"""Audio conferencing → Meetings in Chromium: schedule through the form, find it listed, cancel it."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot, sign_in
from tests.browser.test_roles_and_accessibility import serious_violations
from tests.conftest import ENABLE_ADA
from tests.web.conftest import ADMIN, LiveServer, WebWorld

ADA = "ada@contoso.com"


def test_an_admin_schedules_a_meeting_sees_it_listed_with_its_conference_id_and_cancels_it_in_the_dialog(
    page: Page, web_world: WebWorld, live_server: LiveServer
) -> None:
    digits = web_world.cli.ok(*ENABLE_ADA)["conference_id"]
    spoken = f"{digits[:3]} {digits[3:6]} {digits[6:]}#"
    sign_in(page, live_server, ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Meetings").click()
    expect(page.get_by_role("heading", name="Meetings", level=1)).to_be_visible()
    assert serious_violations(page) == []

    page.get_by_role("navigation", name="Meetings").get_by_role("link", name="Schedule a meeting").click()
    page.get_by_label("Organizer", exact=True).fill(ADA)
    page.get_by_label("Subject", exact=True).fill("Quarterly planning")
    page.get_by_label("Start", exact=True).fill("2030-03-04T09:00")
    page.get_by_label("End", exact=True).fill("2030-03-04T08:00")  # before the start: refused beside the field
    page.get_by_label("Timezone", exact=True).fill("Europe/Paris")
    page.get_by_label("Attendees", exact=True).fill("bob@example.com\neve@example.com")
    page.get_by_role("button", name="Schedule meeting").click()
    expect(page.locator("#e-end")).to_have_text("the meeting must end after it starts (--end is not after --start)")
    expect(page.get_by_label("End", exact=True)).to_have_attribute("aria-invalid", "true")
    assert serious_violations(page) == []
    page.get_by_label("End", exact=True).fill("2030-03-04T10:00")
    page.get_by_role("button", name="Schedule meeting").click()
    expect(page.get_by_role("status")).to_contain_text("Meeting scheduled")
    expect(page.locator("#meeting-conference-id")).to_have_text(spoken)

    page.get_by_role("navigation", name="Meetings").get_by_role("link", name="Upcoming meetings").click()
    row = page.locator("table.meetings tbody tr", has_text="Quarterly planning")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(spoken)
    expect(row).to_contain_text("2030-03-04 09:00")
    expect(row).to_contain_text("Europe/Paris")
    screenshot(page, "meetings.png")
    assert serious_violations(page) == []

    row.get_by_role("link", name="Quarterly planning").click()
    page.evaluate("window.__same_document = true")  # gone if the page reloads
    page.get_by_role("link", name="Cancel meeting").click()
    dialog = page.get_by_role("dialog", name="Cancel meeting?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Yes")).to_be_focused()
    assert serious_violations(page) == []
    dialog.get_by_role("button", name="Yes").click()
    expect(page.locator("#meeting-status")).to_have_text("cancelled")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert page.evaluate("window.__same_document") is True
    (meeting,) = web_world.cli.ok("meeting", "list", "--cancelled")
    assert meeting["status"] == "cancelled" and meeting["subject"] == "Quarterly planning"

    page.get_by_role("navigation", name="Meetings").get_by_role("link", name="Upcoming meetings").click()
    expect(page.get_by_text("No upcoming meeting.")).to_be_visible()


def test_the_migrations_view_works_by_keyboard_and_on_a_narrow_screen(
    page: Page, web_world: WebWorld, live_server: LiveServer
) -> None:
    web_world.cli.ok(*ENABLE_ADA)
    web_world.cli.ok(
        "meeting", "schedule", "--organizer", ADA, "--subject", "Sync", "--start", "2030-03-04T09:00",
        "--end", "2030-03-04T10:00", "--attendee", "bob@example.com",
    )  # fmt: skip
    web_world.cli.ok("user", "reset-conference-id", ADA, "--no-email")  # queues a migration job
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, live_server, ADMIN)
    page.goto(live_server.url + "/meetings/migrations")
    expect(page.get_by_role("heading", name="Meeting migrations")).to_be_visible()
    assert serious_violations(page) == []
    no_sideways_scroll = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_sideways_scroll
    page.get_by_label("User").focus()
    page.keyboard.type(ADA)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Migrate now")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Migration run")
    expect(page.locator("table.jobs")).to_contain_text("1 upcoming meeting(s) updated and re-sent")
    assert web_world.cli.ok("meeting", "migration-status", "--upn", ADA)[0]["state"] == "succeeded"
