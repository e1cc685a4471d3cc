"""protobuild: the protobuf build toolchain for Python repositories."""

__version__ = "0.1.0"
