"""`utils`, as pipehouse serves it to Pipelines files: only `utils.pipelines` is in it."""

from pipehouse.compat.errors import missing_names

__getattr__ = missing_names(__name__)
