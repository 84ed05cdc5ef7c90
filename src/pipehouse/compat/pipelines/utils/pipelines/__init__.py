"""`utils.pipelines`, as pipehouse serves it to Pipelines files (see `pipehouse.compat`)."""

from pipehouse.compat.errors import missing_names

__getattr__ = missing_names(__name__)
