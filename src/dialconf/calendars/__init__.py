"""Calendars: iCalendar invitations (ics); CalDAV later."""
