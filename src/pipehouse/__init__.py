"""pipehouse: run Open WebUI plugins, unmodified, outside Open WebUI."""

__version__ = "0.1.0"
