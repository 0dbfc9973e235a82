"""dialconf: self-hosted dial-in audio conferencing administration."""

__version__ = "0.1.0"
