"""Loading a plugin file the way Open WebUI 0.12.4 does (Open WebUI 0.12.4 utils/plugin.py), with
errors for people."""

from __future__ import annotations

import sys

import pytest

from pipehouse.plugin.errors import PluginError, PluginLoadError, plugin_frames
from pipehouse.plugin.kinds import PluginKind
from pipehouse.plugin.loader import load_plugin, load_plugin_file, plugin_id_from_path
from pipehouse.runtime.executor import PluginSource
from pipehouse.runtime.inprocess import InProcessExecutor
from tests.conftest import plugin_path


def line_of(name: str, marker: str) -> int:
    """1-based number of the first line of fixture `name` that contains `marker`."""
    lines = plugin_path(name).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if marker in line)


def load_error(name: str, **kw) -> PluginLoadError:
    with pytest.raises(PluginLoadError) as caught:
        load_plugin_file(plugin_path(name), **kw)
    return caught.value


def fixture_file(name: str) -> str:
    return str(plugin_path(name).resolve())


# --- kinds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "class_name"),
    [
        ("kind_pipe", PluginKind.PIPE, "Pipe"),
        ("kind_filter", PluginKind.FILTER, "Filter"),
        ("kind_action", PluginKind.ACTION, "Action"),
        ("kind_event", PluginKind.EVENT, "Event"),
        ("kind_tools", PluginKind.TOOLS, "Tools"),
        ("kind_pipeline", PluginKind.PIPELINE, "Pipeline"),
    ],
)
def test_kind_is_found_from_the_class(load, name, kind, class_name):
    plugin = load(name)
    assert plugin.kind is kind
    assert type(plugin.instance).__name__ == class_name


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("kind_pipe_and_filter", PluginKind.PIPE),
        ("kind_pipe_with_action_model", PluginKind.PIPE),
        ("kind_filter_and_action", PluginKind.FILTER),
        ("kind_action_and_event", PluginKind.ACTION),
    ],
)
def test_first_class_in_open_webui_order_wins(load, name, kind):
    # Pipe -> Filter -> Action -> Event, whatever order the file defines them in (Open WebUI 0.12.4
    # utils/plugin.py).
    assert load(name).kind is kind


def test_pipe_next_to_a_pydantic_action_model_still_works(load):
    assert load("kind_pipe_with_action_model").instance.pipe({}) == "search"


def test_explicit_kind_overrides_detection():
    plugin = load_plugin_file(plugin_path("kind_pipe_and_filter"), kind=PluginKind.FILTER)
    assert plugin.kind is PluginKind.FILTER
    assert type(plugin.instance).__name__ == "Filter"


# --- the module the plugin runs in ------------------------------------------------------------


def test_function_module_is_named_function_id(load):
    assert load("kind_pipe").instance.pipe({}) == "function_kind_pipe"
    assert load("kind_filter").instance.inlet({})["module"] == "function_kind_filter"


def test_toolkit_module_is_named_tool_id(load):
    assert load("kind_tools").instance.module_name() == "tool_kind_tools"


def test_pipelines_file_module_is_named_by_its_id(load):
    # The Pipelines server imports the file under its own name (A.6).
    assert load("kind_pipeline").instance.pipe("hi", "m", [], {}) == "kind_pipeline"


def test_module_name_follows_the_plugin_id():
    plugin = load_plugin_file(plugin_path("kind_pipe"), plugin_id="renamed")
    assert plugin.id == "renamed"
    assert plugin.instance.pipe({}) == "function_renamed"


def test_loaded_module_is_registered_under_its_name(load):
    plugin = load("kind_pipe")
    assert sys.modules["function_kind_pipe"] is plugin.module


def test_dataclasses_defined_in_a_plugin_work(load):
    # `@dataclass` looks the module up in sys.modules; Open WebUI's unique name is popped again.
    assert load("load_dataclass").instance.pipe({}) == {"text": "hi", "tags": ["greeting"]}


def test_file_is_readable_after_loading(load):
    # Deviation: Open WebUI deletes the temporary `__file__` once loaded; pipehouse keeps it.
    plugin = load("load_reads_own_file")
    assert plugin.instance.pipe({}) == plugin_path("load_reads_own_file").read_text("utf-8")


def test_prompt_text_with_import_words_is_not_rewritten(load):
    # Deviation: Open WebUI would turn these into "from open_webui.configuration" etc.
    text = load("load_keeps_import_words").instance.pipe({})
    assert text == (
        "Answer from configuration files only.\n"
        "from mainframe logs, quote nothing;\n"
        "quote from utils docs and from apps listings verbatim."
    )


def test_annotations_are_evaluated_as_in_open_webui(load):
    # The loader's own `from __future__ import annotations` must not reach plugin code.
    pipe = load("load_annotations_evaluated").instance.pipe
    assert pipe.__annotations__["body"] is dict
    assert pipe.__annotations__["return"] is str


def test_a_plugin_keeps_its_own_future_import(load):
    plugin = load("load_own_future_annotations")
    assert plugin.instance.pipe.__annotations__["__user__"] == "UserModel"
    assert plugin.instance.pipe({}, {"name": "Ada"}) == "hello Ada"


def test_annotation_naming_a_type_checking_import_fails_as_in_open_webui():
    error = load_error("load_annotation_only_for_type_checkers")
    assert error.error_type == "NameError"
    assert "UserModel" in error.message
    assert error.line == line_of("load_annotation_only_for_type_checkers", "# raises here")


def test_file_with_byte_order_mark_loads(load):
    # pipehouse's one documented tolerance: a BOM changes nothing.
    plugin = load("load_with_bom")
    assert plugin.frontmatter == {"title": "Saved with a byte-order mark"}
    assert plugin.instance.pipe({}) == "bom ok"


def test_pipelines_frontmatter_is_the_module_docstring(load):
    # `"""title: ...` on the opening line: Functions frontmatter would read nothing (A.5).
    plugin = load("kind_pipeline")
    assert plugin.frontmatter == {
        "title": "Plain pipeline",
        "author": "pipehouse tests",
        "requirements": "pydantic>=2",
    }
    assert [r.text for r in plugin.requirements] == ["pydantic>=2"]
    # A.5: the Pipelines server names a model after the instance's `name`, not the docstring.
    assert plugin.name == "Plain pipeline (instance name)"


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("weather.py", "weather"),
        ("My Plugin-v2.py", "my_plugin_v2"),
        ("2fast.py", "p_2fast"),
        ("/some/dir/Auto_Title.py", "auto_title"),
    ],
)
def test_plugin_id_from_path(file_name, expected):
    # Open WebUI accepts identifiers only and lowercases them (routers/functions.py:214-220).
    assert plugin_id_from_path(file_name) == expected


# --- errors while running plugin code ---------------------------------------------------------


def test_plugin_exception_points_at_the_plugin_file_and_line(load):
    plugin = load("load_raises_in_method")
    with pytest.raises(ValueError) as caught:
        plugin.instance.pipe({"messages": [{"role": "user", "content": "seven"}]})
    error = PluginError.from_exception(
        caught.value, plugin_id=plugin.id, path=plugin.path, stage="pipe"
    )
    assert error.path == fixture_file("load_raises_in_method")
    assert error.line == line_of("load_raises_in_method", "# raises here")
    assert error.error_type == "ValueError"
    frames = plugin_frames(caught.value, plugin.path)
    assert [f.name for f in frames] == ["pipe", "parse"]


def test_exception_in_a_plugin_with_rewritten_imports_keeps_its_line(load):
    plugin = load("load_guarded_short_import_raises")
    with pytest.raises(ValueError) as caught:
        plugin.instance.pipe({})
    error = PluginError.from_exception(
        caught.value, plugin_id=plugin.id, path=plugin.path, stage="pipe"
    )
    assert error.line == line_of("load_guarded_short_import_raises", "# raises here")


# --- load errors ------------------------------------------------------------------------------


def test_syntax_error_names_file_and_line():
    error = load_error("load_syntax_error")
    assert (error.plugin_id, error.path, error.stage) == (
        "load_syntax_error",
        fixture_file("load_syntax_error"),
        "load",
    )
    assert error.error_type == "SyntaxError"
    assert error.line == line_of("load_syntax_error", "# missing colon")
    assert "syntax" in error.hint


def test_no_plugin_class_hint_names_the_classes():
    error = load_error("load_no_plugin_class")
    assert error.plugin_id == "load_no_plugin_class"
    assert error.path == fixture_file("load_no_plugin_class")
    for class_name in ("Pipe", "Filter", "Action", "Event", "Tools", "Pipeline"):
        assert class_name in error.hint
    assert "class Function" not in error.hint


def test_class_function_gets_its_own_hint():
    # Open WebUI has no `class Function` (Open WebUI 0.12.4 utils/plugin.py); the hint says so.
    error = load_error("load_class_function")
    assert "class Function" in error.hint


def test_missing_module_that_is_declared_names_the_package_to_declare():
    error = load_error("load_missing_module_declared")
    assert error.error_type == "ModuleNotFoundError"
    assert error.line == line_of("load_missing_module_declared", "import pipehouse_fixture")
    assert "pipehouse_fixture_absent_pkg" in error.hint
    # the requirement is declared but does not provide the module: the likely package is named
    assert "pipehouse-fixture-absent-pkg>=1.0" in error.hint
    assert "likely `pipehouse-fixture-absent-pkg`" in error.hint
    assert "pip install" not in error.hint and "--install" not in error.hint


def test_missing_module_that_is_not_declared_names_the_requirement_to_add():
    error = load_error("load_missing_module_undeclared")
    assert "pipehouse_fixture_absent_pkg" in error.hint
    assert "`requirements: pipehouse-fixture-absent-pkg`" in error.hint
    assert "Open WebUI does not ship it" in error.hint
    assert "pip install" not in error.hint


def test_missing_open_webui_internal_is_named_as_such():
    error = load_error("load_imports_open_webui_internal")
    assert error.error_type == "ModuleNotFoundError"
    assert "Open WebUI internal" in error.hint


def test_short_import_is_rewritten_before_execution():
    # `from utils.x` runs as `from open_webui.utils.x` (Open WebUI 0.12.4 utils/plugin.py), so the
    # hint is about Open WebUI.
    error = load_error("load_short_import")
    assert "open_webui" in error.message
    assert "Open WebUI internal" in error.hint
    assert "'utils'" not in error.hint
    assert error.line == line_of("load_short_import", "from utils.")


def test_exception_in_init_points_inside_init():
    error = load_error("load_raises_in_init")
    assert error.error_type == "RuntimeError"
    assert error.message == "could not reach the model server"
    assert error.line == line_of("load_raises_in_init", "# raises here")
    assert "__init__" in error.hint


def test_exception_at_import_time_points_at_the_statement():
    error = load_error("load_raises_at_import")
    assert error.error_type == "KeyError"
    assert error.line == line_of("load_raises_at_import", "# raises here")
    assert "import time" in error.hint


def test_load_error_reads_well_as_text():
    text = str(load_error("load_raises_in_init"))
    where = f"{fixture_file('load_raises_in_init')}:{line_of('load_raises_in_init', '# raises')}"
    assert "load_raises_in_init" in text
    assert where in text
    assert "hint:" in text


def test_unreadable_file_is_a_load_error(tmp_path):
    with pytest.raises(PluginLoadError) as caught:
        load_plugin_file(tmp_path / "gone.py")
    assert caught.value.plugin_id == "gone"


@pytest.mark.parametrize(
    "broken",
    ["load_raises_at_import", "load_raises_in_init", "load_no_plugin_class", "load_syntax_error"],
)
def test_failed_reload_keeps_the_previous_module(broken):
    good = load_plugin_file(plugin_path("kind_pipe"), plugin_id="reload_probe")
    with pytest.raises(PluginLoadError):
        load_plugin_file(plugin_path(broken), plugin_id="reload_probe")
    assert sys.modules["function_reload_probe"] is good.module
    assert good.instance.pipe({}) == "function_reload_probe"


def test_failed_first_load_leaves_nothing_registered():
    with pytest.raises(PluginLoadError):
        load_plugin_file(plugin_path("load_raises_in_init"), plugin_id="never_loaded_probe")
    assert "function_never_loaded_probe" not in sys.modules


def test_source_without_a_path_still_gets_a_readable_file(tmp_path):
    source = (
        "class Pipe:\n"
        "    def pipe(self, body):\n"
        "        with open(__file__) as file:\n"
        "            return file.read()\n"
    )
    plugin = load_plugin(source, "pathless_probe", cache_dir=tmp_path)
    assert plugin.instance.pipe({}) == source


def test_pipelines_file_named_like_a_real_module_does_not_replace_it(tmp_path):
    # A Pipelines file keeps its file stem as __name__ (as on the Pipelines server), but one
    # named `json.py` must not take the place of the standard library's json for everyone.
    import json

    source = plugin_path("kind_pipeline").read_text()
    target = tmp_path / "json.py"
    target.write_text(source)
    loaded = load_plugin_file(target)
    assert loaded.kind is PluginKind.PIPELINE
    assert loaded.module.__name__ == "json"
    assert sys.modules["json"] is json


def test_source_without_a_file_still_reports_the_line_of_a_syntax_error():
    # Code sent through the API has no path of its own; its syntax error still names the line.
    with pytest.raises(PluginLoadError) as failure:
        load_plugin("class Pipe:\n    def pipe(self, body):\n        return (\n", "api_made")
    assert failure.value.line == 3


def test_asking_for_a_kind_the_file_is_not_names_both():
    source = plugin_path("kind_pipe").read_text()
    with pytest.raises(PluginLoadError) as failure:
        load_plugin(source, "not_tools", kind=PluginKind.TOOLS)
    assert "No Tools class" in failure.value.message and "Pipe" in failure.value.message


def test_sys_exit_at_import_is_a_load_error_naming_the_line():
    # A file that calls sys.exit() when it lacks a setting must not stop whoever loads it.
    error = load_error("exits_at_import")
    assert error.error_type == "SystemExit"
    assert error.message == "PIPEHOUSE_TESTS_NEVER_SET_THIS_KEY is not set"
    assert error.line == line_of("exits_at_import", 'sys.exit("')
    assert "exits_at_import" not in sys.modules and "function_exits_at_import" not in sys.modules


async def test_sys_exit_at_import_on_a_worker_thread_is_a_load_error():
    executor = InProcessExecutor()
    path = plugin_path("exits_at_import")
    try:
        with pytest.raises(PluginLoadError) as failure:
            await executor.load(PluginSource("exits_at_import", path.read_text(), str(path)))
        assert (failure.value.plugin_id, failure.value.error_type) == (
            "exits_at_import",
            "SystemExit",
        )
    finally:
        await executor.close()
