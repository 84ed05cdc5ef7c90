"""Which filters a request runs, in which order, per hook (`FilterPlan`), and the planner that
keeps each plan until the catalog or the stored valves change (docs/architecture.md)."""

from __future__ import annotations

from pipehouse.plugin.kinds import PluginKind
from pipehouse.runtime.catalog import Catalog, Entry, ValvesSource


class FilterPlan:
    """A request's active filters and, per hook, the chain that runs it, in order. A Pipelines
    model's own hooks run as the Pipelines server's part of the chain: its inlet after the
    Pipelines filters, its outlet before them (the Pipelines server's main.py; docs/pipelines.md);
    Functions filters
    follow either way. Made once per model and `filter_ids`, not per request."""

    __slots__ = ("filters", "handles_files", "inlet", "outlet", "stream")

    def __init__(self, filters: list[Entry], pipe: Entry | None = None) -> None:
        self.filters = filters
        self.inlet = self._chain("inlet", pipe)
        self.outlet = self._chain("outlet", pipe)
        self.stream = [e for e in filters if "stream" in e.info.hooks]
        self.handles_files = any(e.info.file_handler for e in self.inlet)

    def _chain(self, hook: str, pipe: Entry | None) -> list[Entry]:
        chain = [e for e in self.filters if hook in e.info.hooks]
        if pipe is not None and pipe.info.kind is PluginKind.PIPELINE and hook in pipe.info.hooks:
            pipelines = sum(1 for e in chain if e.info.kind is PluginKind.PIPELINE)
            chain.insert(pipelines if hook == "inlet" else 0, pipe)
        return chain


NO_FILTERS = FilterPlan([])


class FilterPlanner:
    """Plans the filters of a request from the catalog and the stored valves."""

    def __init__(self, catalog: Catalog, store: ValvesSource) -> None:
        self.catalog = catalog
        self.store = store
        self._plans: dict[tuple[str, tuple[str, ...]], tuple[tuple[int, int], FilterPlan]] = {}

    async def _priority(self, entry: Entry) -> int:
        stored = await self.store.valves(entry.info.id) or {}
        value = stored.get("priority", entry.info.default_priority)
        return value if isinstance(value, int) else 0

    async def plan(
        self, model_id: str, filter_ids: list[str], pipe: Entry | None = None
    ) -> FilterPlan:
        """Active filters for this request, ordered as Open WebUI orders them: Pipelines-format
        filters first (Open WebUI calls the Pipelines server before its own functions), each
        group by (priority, id), with the chain each hook runs (`FilterPlan`). `pipe` is the
        entry serving `model_id`, when a plugin does.

        Toggle filters run only when the request names them in `filter_ids`; Pipelines-format
        filters run for the models their `pipelines` valve targets ("*" for all).

        The plan is kept until the catalog or the stored valves change, when the store says
        when that is (a `version`); stores without one are asked every time.
        """
        store_version = getattr(self.store, "version", None)
        if store_version is None:
            return FilterPlan(await self._plan_filters(model_id, filter_ids), pipe)
        key = (model_id, tuple(filter_ids))
        versions = (self.catalog.version, store_version)
        cached = self._plans.get(key)
        if cached is None or cached[0] != versions:
            if len(self._plans) > 4096:  # many distinct filter_ids: start over
                self._plans.clear()
            plan = FilterPlan(await self._plan_filters(model_id, filter_ids), pipe)
            cached = self._plans[key] = (versions, plan)
        return cached[1]

    async def _plan_filters(self, model_id: str, filter_ids: list[str]) -> list[Entry]:
        chosen = []
        for entry in self.catalog.filters():
            info = entry.info
            if not entry.is_global:
                continue
            if info.toggle and info.id not in filter_ids:
                continue
            if info.kind is PluginKind.PIPELINE:
                stored = await self.store.valves(info.id) or {}
                targets = stored.get("pipelines", (info.valves_defaults or {}).get("pipelines", []))
                if "*" not in (targets or []) and model_id not in (targets or []):
                    continue
            chosen.append(entry)
        priorities = {e.info.id: await self._priority(e) for e in chosen}

        def order(entry: Entry) -> tuple[bool, int, str]:
            return (
                entry.info.kind is not PluginKind.PIPELINE,
                priorities[entry.info.id],
                entry.info.id,
            )

        return sorted(chosen, key=order)
