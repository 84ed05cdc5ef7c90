"""uv's refusals, read into messages an admin can act on, however uv wrapped its lines."""

from __future__ import annotations

from pipehouse.envs.errors import explain

# uv's words for a package the registry does not have, as a narrow terminal wraps them
NOT_FOUND_WRAPPED = [
    "  \u00d7 No solution found when resolving dependencies:",
    "  ╰─▶ Because pipehouse-fixture-no-such-distribution was not found in the",
    "      package registry and you require pipehouse-fixture-no-such-distribution==1.0,",
    "      we can conclude that your requirements are unsatisfiable.",
]


def test_a_package_the_registry_lacks_is_named_even_when_uv_wrapped_the_line():
    error = explain(
        ["pipehouse-fixture-no-such-distribution==1.0"], NOT_FOUND_WRAPPED, offline=False
    )
    assert error.message == (
        "no package named pipehouse-fixture-no-such-distribution in the package registry"
    )
    assert error.tail == NOT_FOUND_WRAPPED


def test_offline_names_the_package_missing_from_the_cache():
    lines = [line.replace("package registry", "cache") for line in NOT_FOUND_WRAPPED]
    error = explain(["pipehouse-fixture-no-such-distribution==1.0"], lines, offline=True)
    assert "PIPEHOUSE_OFFLINE is set" in error.message
    assert "pipehouse-fixture-no-such-distribution is not in the package cache" in error.message


def test_any_other_failure_quotes_uvs_last_line():
    error = explain(["x==1"], ["resolving", "error: disk quota exceeded"], offline=False)
    assert error.message == "installing x==1 failed: error: disk quota exceeded"
