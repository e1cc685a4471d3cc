"""`python -m protobuild`."""

from protobuild.cli import entry

entry()
