"""The `requirements:` frontmatter value: parsed, and checked against this environment."""

from __future__ import annotations

import pytest

from pipehouse.plugin.requirements import (
    PluginRequirement,
    missing_requirements,
    parse_requirements,
)


def texts(value: str | None) -> list[str]:
    return [r.text for r in parse_requirements(value)]


def test_comma_separated_items_are_stripped():
    assert texts("requests,  httpx ,beautifulsoup4") == ["requests", "httpx", "beautifulsoup4"]


def test_version_range_after_a_comma_stays_with_its_package():
    assert texts("pydantic>=2,<3, httpx") == ["pydantic>=2,<3", "httpx"]
    assert texts("numpy >= 1.26, < 3") == ["numpy >= 1.26,< 3"]


def test_quotes_around_items_are_removed():
    assert texts("\"requests\", 'httpx>=0.27'") == ["requests", "httpx>=0.27"]


def test_names_are_canonical_distribution_names():
    names = [r.name for r in parse_requirements("Beautiful_Soup4, PyYAML>=6")]
    assert names == ["beautiful-soup4", "pyyaml"]


def test_git_url_takes_its_name_from_egg():
    [req] = parse_requirements("git+https://github.com/o/repo.git@v1#egg=my_pkg")
    assert (req.text, req.name, req.valid, req.is_url) == (
        "git+https://github.com/o/repo.git@v1#egg=my_pkg",
        "my-pkg",
        True,
        True,
    )


@pytest.mark.parametrize(
    "url",
    [
        "git+https://github.com/o/repo.git@v1",
        "git+https://github.com/o/repo",
        "git+ssh://git@github.com/o/repo.git@main",
    ],
)
def test_git_url_without_egg_takes_its_name_from_the_repository(url):
    [req] = parse_requirements(url)
    assert req.name == "repo"


def test_pep508_direct_reference_uses_the_declared_name():
    [req] = parse_requirements("mytool @ git+https://github.com/o/other.git")
    assert req.name == "mytool"


@pytest.mark.parametrize("value", [None, "", "   ", "None", "none", " NONE "])
def test_no_requirements(value):
    assert parse_requirements(value) == []


def test_invalid_requirement_is_flagged():
    reqs = parse_requirements("requests, this is not ~~ a requirement")
    assert [(r.text, r.valid) for r in reqs] == [
        ("requests", True),
        ("this is not ~~ a requirement", False),
    ]
    assert reqs[1].name is None


@pytest.mark.parametrize(
    "option",
    [
        "--index-url=http://127.0.0.1:9/simple",
        "--extra-index-url http://127.0.0.1:9/simple",
        "-i http://127.0.0.1:9/simple",
        "https://127.0.0.1:9/pkg.whl --trusted-host 127.0.0.1",
    ],
)
def test_an_installer_option_is_never_a_valid_requirement(option):
    (requirement,) = parse_requirements(option)
    assert (requirement.text, requirement.valid, requirement.is_url) == (option, False, False)


def test_installed_package_is_not_missing():
    assert missing_requirements(parse_requirements("pydantic, pydantic>=2")) == []


def test_wrong_version_is_missing():
    assert texts_of(missing_requirements(parse_requirements("pydantic<1"))) == ["pydantic<1"]


def test_absent_package_is_missing():
    reqs = parse_requirements("pydantic, pipehouse-fixture-absent-pkg==1.0")
    assert texts_of(missing_requirements(reqs)) == ["pipehouse-fixture-absent-pkg==1.0"]


def test_invalid_requirement_counts_as_missing():
    reqs = [PluginRequirement("not ~~ valid", None, valid=False)]
    assert missing_requirements(reqs) == reqs


def texts_of(reqs: list[PluginRequirement]) -> list[str]:
    return [r.text for r in reqs]
