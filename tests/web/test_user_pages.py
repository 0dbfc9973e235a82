"""The users page and action pane without a browser: plain form posts (no JavaScript), CSRF, roles."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from dialconf.domain.roles import Actor
from dialconf.services import users
from dialconf.web.pages_users import count_line
from tests.conftest import ENABLE_ADA, make_uow
from tests.web.conftest import ADMIN, HELPDESK, WebWorld, sign_in

ADA = "ada@contoso.com"


def test_reset_without_javascript_redirects_to_the_pane_showing_the_new_id(
    web_world: WebWorld, client: TestClient
) -> None:
    old = web_world.cli.ok(*ENABLE_ADA)["conference_id"]
    csrf = sign_in(client, ADMIN)
    answer = client.post(f"/users/{ADA}/conference-id/reset", data={"csrf": csrf})
    assert answer.status_code == 303
    new = web_world.cli.ok("user", "show", ADA)["conference_id"]
    assert new != old
    page = client.get(answer.headers["location"])
    shown = re.search(r'id="conference-id"[^>]*>([^<]+)<', page.text)
    assert shown and shown.group(1).replace(" ", "").rstrip("#") == new
    assert "Conference ID reset" in page.text


def test_an_htmx_reset_answers_with_the_pane_alone(web_world: WebWorld, client: TestClient) -> None:
    web_world.cli.ok(*ENABLE_ADA)
    csrf = sign_in(client, ADMIN)
    answer = client.post(
        f"/users/{ADA}/conference-id/reset", data={"csrf": csrf}, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<section id="pane"') and "<html" not in answer.text
    assert web_world.cli.ok("user", "show", ADA)["conference_id"] in answer.text


def test_the_unchecked_email_box_sends_no_mail_and_the_checked_one_does(
    web_world: WebWorld, client: TestClient
) -> None:
    web_world.cli.ok(*ENABLE_ADA)
    csrf = sign_in(client, ADMIN)
    queued = len(web_world.cli.ok("mail", "list"))
    client.post(f"/users/{ADA}/conference-id/reset", data={"csrf": csrf})
    assert len(web_world.cli.ok("mail", "list")) == queued
    client.post(f"/users/{ADA}/conference-id/reset", data={"csrf": csrf, "send_email": "1"})
    assert len(web_world.cli.ok("mail", "list")) == queued + 1


def test_a_reset_form_posted_without_the_csrf_token_is_refused(
    web_world: WebWorld, client: TestClient
) -> None:
    old = web_world.cli.ok(*ENABLE_ADA)["conference_id"]
    sign_in(client, ADMIN)
    answer = client.post(f"/users/{ADA}/conference-id/reset", data={})
    assert answer.status_code == 403
    assert web_world.cli.ok("user", "show", ADA)["conference_id"] == old


def test_the_new_pin_is_only_in_the_answer_to_its_post(web_world: WebWorld, client: TestClient) -> None:
    web_world.cli.ok(*ENABLE_ADA)
    csrf = sign_in(client, ADMIN)
    answer = client.post(f"/users/{ADA}/pin/reset", data={"csrf": csrf})
    assert answer.status_code == 200
    pin = re.search(r'id="new-pin"[^>]*>(\d+)<', answer.text)
    assert pin is not None
    for path in (f"/users/{ADA}", f"/users/{ADA}/pane", "/users"):
        assert pin.group(1) not in client.get(path).text


def test_helpdesk_resets_ids_but_cannot_change_properties(web_world: WebWorld, client: TestClient) -> None:
    web_world.cli.ok(*ENABLE_ADA)
    csrf = sign_in(client, HELPDESK)
    pane = client.get(f"/users/{ADA}").text
    assert "Reset<span" in pane and "/properties" not in pane
    answer = client.post(
        f"/users/{ADA}/properties/conference-id", data={"csrf": csrf, "conference_id": "12345678"}
    )
    assert answer.status_code == 403
    assert client.post(f"/users/{ADA}/conference-id/reset", data={"csrf": csrf}).status_code == 303


def test_an_admin_of_another_tenant_gets_404_for_the_pane(web_world: WebWorld, client: TestClient) -> None:
    web_world.cli.ok("tenant", "create", "fabrikam", "--domain", "fabrikam.com")
    web_world.cli.ok("bridge", "create", "fabrikam", "main")
    web_world.cli.ok(
        "user",
        "enable",
        "bob@fabrikam.com",
        "--tenant",
        "fabrikam",
        "--email",
        "bob@fabrikam.com",
        "--name",
        "Bob",
    )
    csrf = sign_in(client, ADMIN)
    assert client.get("/users/bob@fabrikam.com").status_code == 404
    assert client.post("/users/bob@fabrikam.com/conference-id/reset", data={"csrf": csrf}).status_code == 404
    assert "bob@fabrikam.com" not in client.get("/users?q=bob").text


def test_the_enabled_filter_shows_only_enabled_or_only_disabled_users(
    web_world: WebWorld, client: TestClient
) -> None:
    web_world.cli.ok(*ENABLE_ADA)
    web_world.cli.ok("user", "enable", "bob@contoso.com", "--tenant", "contoso", "--email", "bob@contoso.com",
                     "--name", "Bob")  # fmt: skip
    web_world.cli.ok("user", "disable", "bob@contoso.com")
    sign_in(client, ADMIN)

    def listed(enabled: str) -> set[str]:
        page = client.get("/users", params={"enabled": enabled})
        assert page.status_code == 200
        return {upn for upn in (ADA, "bob@contoso.com") if f">{upn}<" in page.text}

    assert listed("") == {ADA, "bob@contoso.com"}
    assert listed("yes") == {ADA}
    assert listed("no") == {"bob@contoso.com"}


def test_next_page_continues_after_the_last_sign_in_name_shown(
    web_world: WebWorld, client: TestClient, tmp_path: Path
) -> None:
    rows = "".join(f"user{n:02d}@contoso.com,user{n:02d}@contoso.com,User {n:02d}\n" for n in range(30))
    (tmp_path / "users.csv").write_text("upn,email,name\n" + rows)
    web_world.cli.ok("user", "import", str(tmp_path / "users.csv"), "--tenant", "contoso", "--no-email")
    sign_in(client, ADMIN)

    first = client.get("/users")
    assert "Showing 1–25 of 30 users." in first.text
    next_link = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert next_link is not None and "after=user24%40contoso.com" in next_link.group(1)

    second = client.get(next_link.group(1).replace("&amp;", "&"))
    assert "Showing 26–30 of 30 users." in second.text
    assert ">user25@contoso.com<" in second.text and ">user24@contoso.com<" not in second.text
    assert 'rel="next"' not in second.text
    previous = re.search(r'href="([^"]+)" rel="prev"', second.text)
    assert previous is not None and "page=1" in previous.group(1)


def test_the_count_line_says_more_than_the_cap_when_the_list_stopped_counting(
    web_world: WebWorld, tmp_path: Path
) -> None:
    rows = "".join(f"user{n:02d}@contoso.com,user{n:02d}@contoso.com,User {n:02d}\n" for n in range(12))
    (tmp_path / "users.csv").write_text("upn,email,name\n" + rows)
    web_world.cli.ok("user", "import", str(tmp_path / "users.csv"), "--tenant", "contoso", "--no-email")

    def line(**options: object) -> str:
        page = users.list_users(make_uow(web_world.url), tenant="contoso", actor=Actor.operator(), **options)  # type: ignore[arg-type]
        return count_line(page)

    assert line(limit=5) == "Showing 1–5 of 12 users."
    assert line(limit=5, count_cap=10) == "Showing 1–5 of more than 10 users."
    assert line(limit=5, count_cap=10, after="user10@contoso.com") == (
        "Showing 1 user beyond the first 10 of more than 11."
    )
    assert line(search="user", limit=5, count_cap=10) == "Showing 1–5 of more than 10 users."
    assert line(search="user1", limit=5, count_cap=10) == "Showing 1–2 of 2 users."
