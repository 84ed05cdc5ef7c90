"""Garbage collection is the process's, not the app's: building and starting an app leaves it
alone; a server that asks for tuning (`serve`, PIPEHOUSE_GC_TUNING) gets it while it serves, and
the process gets its own settings back afterwards."""

from __future__ import annotations

import gc

import pytest
from starlette.testclient import TestClient

from pipehouse.api.app import create_app
from pipehouse.api.gc_tuning import SERVER_THRESHOLDS
from pipehouse.config import Settings


@pytest.fixture
def default_gc():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's defaults, whatever ran before
    yield
    gc.set_threshold(*before)


def serving(tmp_path, **flags) -> tuple[tuple[int, ...], int, dict]:
    """The collector's thresholds and frozen count while the app serves, and a /health reply."""
    app = create_app(Settings(data_dir=tmp_path, admin_key="sk-test", **flags))
    with TestClient(app) as client:
        return gc.get_threshold(), gc.get_freeze_count(), client.get("/health").json()


def test_an_app_built_by_a_test_or_an_embedder_leaves_garbage_collection_alone(
    tmp_path, monkeypatch, default_gc
):
    monkeypatch.delenv("PIPEHOUSE_GC_TUNING", raising=False)
    frozen_before = gc.get_freeze_count()
    thresholds, frozen, health = serving(tmp_path)
    assert health["status"] is True  # the app did start
    assert thresholds == (700, 10, 10)
    assert frozen == frozen_before


def test_a_server_that_asks_is_tuned_while_it_serves_and_gives_the_settings_back(
    tmp_path, default_gc
):
    thresholds, frozen, _ = serving(tmp_path, gc_tuning=True)
    assert thresholds == SERVER_THRESHOLDS
    assert frozen > 0  # what start-up built is out of every later collection
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_the_variable_turns_it_on_for_an_app_too(tmp_path, monkeypatch, default_gc):
    monkeypatch.setenv("PIPEHOUSE_GC_TUNING", "1")
    thresholds, _, _ = serving(tmp_path)
    assert thresholds == SERVER_THRESHOLDS
