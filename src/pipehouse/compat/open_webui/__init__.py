"""`open_webui`, as pipehouse serves it to plugins (see `pipehouse.compat`)."""

from pipehouse.compat.errors import missing_names

__getattr__ = missing_names(__name__)
