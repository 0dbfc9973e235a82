"""Pure rules of dialconf: no I/O, no database, no framework."""
