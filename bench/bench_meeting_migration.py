"""Meeting migration: one organizer with N upcoming meetings, after a conference ID reset.

In each round the organizer's conference ID is reset (static mode), which queues a migration job;
then, timed separately:

  render      the same N invitations rendered to iCalendar text (`ics.render`) in a plain loop,
              from meetings already in memory: the floor of what a migration must do per meeting
  migration   `meeting_migrations.run_job` on the queued job: reads the upcoming meetings, rewrites
              each dial-in block, bumps SEQUENCE, renders the invitation and queues it in the outbox
              for every attendee, in one transaction

With `--caldav`, the same for a CalDAV calendar on a local Radicale server (its own process): the
organizer's calendar holds N upcoming events that carry dialconf's dial-in block, and each round
times

  put         N plain PUTs of the same event texts over the same events (unconditional, one after
              another over one connection): the floor of what rewriting N events must do
  migration   `meeting migrate UPN` after a reset: one REPORT for the upcoming events, then for each
              stale one a conditional GET and a PUT with If-Match

The two sides take turns going first. The rates are medians over the rounds; the ratio is the
median of the per-round ratios (floor time / migration time; aim: within 2x, so at least 0.5).

    python bench/bench_meeting_migration.py                  # 5,000 own meetings, 3 rounds
    python bench/bench_meeting_migration.py --caldav         # 5,000 events in Radicale, 3 rounds
    python bench/bench_meeting_migration.py --meetings 500 --rounds 1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _support import OPERATOR, Database, fresh_database, machine, median, seed_tenant
from sqlalchemy import select

from dialconf.calendars import ics
from dialconf.services import meeting_migrations, meetings, resets, tenants, users
from dialconf.store.models import Meeting, MeetingMigration, OutboxMail, Tenant, User

TARGET_RATIO = 0.5
ORGANIZER = "ada@contoso.com"


def seed(db: Database, count: int) -> None:
    seed_tenant(db, mode="static", auto_email=False)
    tenants.update_settings(db.uow(), name="contoso", actor=OPERATOR, meeting_migration=True)
    users.enable_user(
        db.uow(), tenant="contoso", upn=ORGANIZER, email=ORGANIZER, name="Ada Lovelace", actor=OPERATOR, send_email=False
    )
    first = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=1)
    for n in range(count):
        start = first + timedelta(hours=n)
        meetings.schedule_meeting(
            db.uow(),
            organizer=ORGANIZER,
            subject=f"Weekly sync {n}",
            start=start.isoformat(),
            end=(start + timedelta(minutes=30)).isoformat(),
            timezone="Europe/Paris",
            attendees=[f"guest{n % 50}@example.org"],
            actor=OPERATOR,
        )


def time_render(db: Database) -> tuple[float, int]:
    """Seconds to render every upcoming invitation of the organizer from memory."""
    uow = db.uow()
    with uow.read():
        user = uow.session.scalars(select(User).where(User.upn == ORGANIZER)).one()
        tenant = uow.session.get(Tenant, user.tenant_id)
        assert tenant is not None
        rows = list(uow.session.scalars(select(Meeting).where(Meeting.organizer_id == user.id)))
        invites = [meetings.invitation(uow, tenant, user, m, method="REQUEST") for m in rows]
    start = time.perf_counter()
    for invite in invites:
        ics.render(invite)
    return time.perf_counter() - start, len(invites)


def time_migration(db: Database) -> tuple[float, int]:
    """Reset the organizer's ID, then seconds to run the migration job it queued, and what it updated."""
    resets.reset_conference_id(db.uow(), upn=ORGANIZER, actor=OPERATOR, send_email=False)
    uow = db.uow()
    with uow.read():
        job_id = uow.session.scalars(
            select(MeetingMigration.id).where(MeetingMigration.state == "pending").order_by(MeetingMigration.id.desc())
        ).first()
    assert job_id is not None, "the reset queued no migration job"
    start = time.perf_counter()
    view = meeting_migrations.run_job(db.uow(), job_id=job_id, actor=OPERATOR)
    elapsed = time.perf_counter() - start
    assert view.state == "succeeded", view.last_message
    return elapsed, view.meetings_updated


# --- CalDAV -----------------------------------------------------------------------------------

SERVICE, PASSWORD = "dialconf", "bench-calendar-secret"


def seed_caldav(db: Database, server: Any, count: int) -> list[str]:
    """The organizer with one meeting, and `count` copies of its invitation in her Radicale calendar."""
    seed_tenant(db, mode="static", auto_email=False)
    users.enable_user(
        db.uow(), tenant="contoso", upn=ORGANIZER, email=ORGANIZER, name="Ada Lovelace", actor=OPERATOR, send_email=False
    )
    tenants.update_settings(
        db.uow(),
        name="contoso",
        actor=OPERATOR,
        meeting_migration=True,
        caldav_url=f"{server.url}/{{upn}}/calendar/",
        caldav_username=SERVICE,
        caldav_password=PASSWORD,
    )
    start = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(days=1)
    meetings.schedule_meeting(
        db.uow(),
        organizer=ORGANIZER,
        subject="Weekly sync",
        start=start.isoformat(),
        end=(start + timedelta(minutes=30)).isoformat(),
        attendees=["guest@example.org"],
        actor=OPERATOR,
    )
    uow = db.uow()
    with uow.read():
        uid = uow.session.scalars(select(Meeting.uid)).one()
        text = uow.session.scalars(select(OutboxMail.ics).where(OutboxMail.ics.is_not(None))).one()
    assert text is not None
    # the invitation as a calendar program files it (no METHOD), under N other UIDs
    stored = text.replace("METHOD:REQUEST\r\n", "")
    texts = [stored.replace(uid, f"bench-{n}@example.org") for n in range(count)]
    server.make_calendar(SERVICE, f"/{ORGANIZER}/calendar/")
    # Radicale creates an item slower the more the calendar holds (each new one is added to its sync
    # history), so the events are laid straight into its storage folder, where it reads them from
    folder = server.folder / "collections" / "collection-root" / ORGANIZER / "calendar"
    for n, body in enumerate(texts):
        (folder / f"bench-{n}.ics").write_bytes(body.encode())
    with httpx.Client(auth=(SERVICE, PASSWORD), timeout=600) as http:  # the server sees them all (and caches them)
        listed = http.request("PROPFIND", f"{server.url}/{ORGANIZER}/calendar/", headers={"Depth": "1"})
        listed.raise_for_status()
        assert listed.text.count("bench-") >= count, "Radicale does not list the events laid in its folder"
    return texts


def time_puts(server: Any, texts: list[str]) -> float:
    """Seconds to PUT every event text again, unconditionally, over the organizer's own events."""
    calendar = f"{server.url}/{ORGANIZER}/calendar/"
    with server.client(SERVICE) as http:
        start = time.perf_counter()
        for n, body in enumerate(texts):
            answer = http.put(f"{calendar}bench-{n}.ics", content=body.encode(), headers={"Content-Type": "text/calendar"})
            answer.raise_for_status()
        return time.perf_counter() - start


def time_caldav_migration(db: Database) -> tuple[float, int]:
    elapsed, updated = time_migration(db)
    return elapsed, updated - 1  # less the one own meeting


def main_caldav(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.support.radicale import radicale_server

    print(f"# meeting migration in a Radicale calendar, {args.meetings:,} upcoming events, {args.rounds} rounds")
    print(f"# {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "radicale"
        folder.mkdir()
        with radicale_server(folder, {SERVICE: PASSWORD}) as server:
            db = fresh_database(Path(tmp))
            started = time.perf_counter()
            texts = seed_caldav(db, server, args.meetings)
            print(f"seeded in {time.perf_counter() - started:.1f} s")
            put_rates: list[float] = []
            migration_rates: list[float] = []
            ratios: list[float] = []
            for round_no in range(args.rounds):
                if round_no % 2 == 0:
                    put_s = time_puts(server, texts)
                    migrate_s, migrated = time_caldav_migration(db)
                else:
                    migrate_s, migrated = time_caldav_migration(db)
                    put_s = time_puts(server, texts)
                if migrated != args.meetings:
                    print(f"round {round_no + 1}: rewrote {migrated} of {args.meetings} events")
                    return 1
                put_rates.append(len(texts) / put_s)
                migration_rates.append(migrated / migrate_s)
                ratios.append(put_s / migrate_s)
                print(
                    f"round {round_no + 1}: plain PUT {len(texts) / put_s:,.0f}/s, "
                    f"migration {migrated / migrate_s:,.0f}/s ({migrate_s:.2f} s)"
                )
    print(f"plain PUT  median {median(put_rates):,.0f} events/s")
    print(f"migration  median {median(migration_rates):,.0f} events/s")
    print(f"ratio (migration rate / PUT rate) {median(ratios):.2f}, aim at least {TARGET_RATIO}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--caldav", action="store_true", help="migrate events in a local Radicale calendar")
    args = parser.parse_args(argv)
    if args.caldav:
        return main_caldav(args)
    print(f"# meeting migration, {args.meetings:,} upcoming meetings, {args.rounds} rounds")
    print(f"# {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        db = fresh_database(Path(tmp))
        started = time.perf_counter()
        seed(db, args.meetings)
        print(f"seeded in {time.perf_counter() - started:.1f} s")
        render_rates: list[float] = []
        migration_rates: list[float] = []
        ratios: list[float] = []
        for round_no in range(args.rounds):
            if round_no % 2 == 0:
                render_s, rendered = time_render(db)
                migrate_s, migrated = time_migration(db)
            else:
                migrate_s, migrated = time_migration(db)
                render_s, rendered = time_render(db)
            if migrated != args.meetings or rendered != args.meetings:
                print(f"round {round_no + 1}: migrated {migrated}, rendered {rendered} of {args.meetings}")
                return 1
            render_rates.append(rendered / render_s)
            migration_rates.append(migrated / migrate_s)
            ratios.append(render_s / migrate_s)
            print(
                f"round {round_no + 1}: render {rendered / render_s:,.0f}/s, "
                f"migration {migrated / migrate_s:,.0f}/s ({migrate_s:.2f} s)"
            )
    ratio = median(ratios)
    print(f"render     median {median(render_rates):,.0f} meetings/s")
    print(f"migration  median {median(migration_rates):,.0f} meetings/s")
    print(f"ratio (migration rate / render rate) {ratio:.2f}, aim at least {TARGET_RATIO}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
