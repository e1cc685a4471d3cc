"""The stock jinja2 templates of protobuild (package data; see docs/templates.md)."""
