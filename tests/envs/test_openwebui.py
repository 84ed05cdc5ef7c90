"""The packages Open WebUI 0.12.4 ships, found from the module a plugin imports."""

from __future__ import annotations

from pipehouse.envs.distributions import package_for_module
from pipehouse.envs.openwebui import shipped_requirement


def test_a_module_open_webui_ships_gets_its_pinned_version():
    assert shipped_requirement("validators") == "validators==0.35.0"
    assert shipped_requirement("pytz") == "pytz==2026.2"
    assert shipped_requirement("bs4.element") == "beautifulsoup4==4.14.3"
    assert shipped_requirement("PIL") == "pillow==13.0.0"
    assert shipped_requirement("docx") == "python-docx==1.2.0"
    assert shipped_requirement("httpx") == "httpx==0.28.1"  # extras dropped


def test_a_module_open_webui_does_not_ship_gets_none():
    assert shipped_requirement("pyfiglet") is None
    assert shipped_requirement("yaml") is None  # pyyaml: not one of Open WebUI's own


def test_import_names_map_to_their_packages():
    assert package_for_module("yaml") == "pyyaml"
    assert package_for_module("google.genai.types") == "google-genai"
    assert package_for_module("cv2") == "opencv-python-headless"
    assert package_for_module("Some_Module.sub") == "some-module"
