"""Plugins in worker processes: the wire protocol, the worker entry, and the supervisor that
starts, watches and replaces workers (docs/isolation.md)."""
