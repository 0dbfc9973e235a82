"""Phone systems talking to dialconf: the FastAGI protocol (agi), its asyncio server and the auto attendant.

Nothing here imports `dialconf.services`: an entry point (cli/agi.py) hands the attendant a resolver
that calls the dial-in service (STYLE rule 16).
"""
