"""The calendar server and Jitsi rooms sections of the settings page, driven in the browser by a tenant admin."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_roles_and_accessibility import serious_violations
from tests.web.conftest import ADMIN, LiveServer, WebWorld

URL = "https://calendar.contoso.com/dav/{upn}/calendar/"
SECRET = "Browser-CalDAV-pw-1"


def test_an_admin_connects_the_calendar_server_and_a_bad_url_is_shown_beside_its_field(
    page: Page, web_world: WebWorld, live_server: LiveServer
) -> None:
    sign_in(page, live_server, ADMIN)
    page.goto(live_server.url + "/settings")
    section = page.get_by_role("region", name="Calendar server (CalDAV)")
    expect(section.get_by_text("Not connected")).to_be_visible()

    section.get_by_label("Calendar URL").fill("ftp://calendar.contoso.com/x/")
    section.get_by_role("button", name="Save calendar server").click()
    url_field = page.get_by_role("region", name="Calendar server (CalDAV)").get_by_label("Calendar URL")
    expect(url_field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#e-caldav_url")).to_contain_text("http:// or https://")

    section = page.get_by_role("region", name="Calendar server (CalDAV)")
    section.get_by_label("Calendar URL").fill(URL)
    section.get_by_label("User name").fill("dialconf")
    section.get_by_label("Password").fill(SECRET)
    section.get_by_role("button", name="Save calendar server").click()
    expect(page.get_by_role("status")).to_have_text("Calendar server saved")
    section = page.get_by_role("region", name="Calendar server (CalDAV)")
    expect(section.get_by_text("signing in as dialconf")).to_be_visible()
    expect(section.get_by_label("Password")).to_have_value("")
    assert SECRET not in page.content()
    shown = web_world.cli.ok("tenant", "show", "contoso")
    assert (shown["caldav_url"], shown["caldav_username"]) == (URL, "dialconf") and shown["caldav_connected"]

    section.get_by_role("button", name="Disconnect the calendar server").click()
    expect(page.get_by_role("status")).to_have_text("Calendar server disconnected")
    assert web_world.cli.ok("tenant", "show", "contoso")["caldav_connected"] is False


def test_an_admin_unmaps_a_jitsi_room_on_the_settings_page_and_axe_finds_nothing_serious(
    page: Page, web_world: WebWorld, live_server: LiveServer
) -> None:
    muc = "conference.meet.contoso.com"
    web_world.cli.ok("tenant", "set", "contoso", "--jitsi-muc-domain", muc)
    for room in ("standup", "spam"):
        mapped = httpx.get(
            f"{live_server.url}/jitsi/conferenceMapper", params={"conference": f"{room}@{muc}"}
        )
        assert mapped.status_code == 200
    sign_in(page, live_server, ADMIN)
    page.goto(live_server.url + "/settings")
    section = page.get_by_role("region", name="Jitsi rooms")
    expect(section.get_by_role("cell", name=f"spam@{muc}", exact=True)).to_be_visible()
    assert serious_violations(page) == []

    section.get_by_role("button", name=f"Unmap spam@{muc}").click()
    expect(page.get_by_role("status")).to_have_text("1 Jitsi room(s) unmapped")
    section = page.get_by_role("region", name="Jitsi rooms")
    expect(section.get_by_role("cell", name=f"spam@{muc}", exact=True)).to_have_count(0)
    expect(section.get_by_role("cell", name=f"standup@{muc}", exact=True)).to_be_visible()
    assert [r["room"] for r in web_world.cli.ok("tenant", "jitsi-rooms", "contoso")] == [f"standup@{muc}"]
