"""Where the console's templates and static files live inside the package."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
STATIC_URL = "/static/console"
SWAGGER_URL = f"{STATIC_URL}/vendor/swagger-ui"  # Swagger UI 5, vendored (its README.md)

templates = Jinja2Templates(directory=HERE / "templates")
