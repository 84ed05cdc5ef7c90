"""What the worker supervisor sees, shown where an admin looks: a plugin that keeps ending its
worker is `failing` in its status (with the last cause), and one that blocks its worker's event
loop gets `loop_stall` in its status and counts in `pipehouse_loop_stalls_total`, exactly as a
stall in inline mode does (api/app.py `watch_loop`)."""

from __future__ import annotations

import time

from pipehouse.api.observability import Metrics
from pipehouse.runtime.loop_lag import Stall
from pipehouse.runtime.workers.heartbeat import StallReport
from pipehouse.runtime.workers.supervisor import Supervisor, WorkerExit, WorkerProcess
from pipehouse.service.plugins import PluginService


def report_workers(supervisor: Supervisor, metrics: Metrics, plugins: PluginService) -> None:
    """Route the supervisor's reports to the plugins' status and the metrics (call once)."""

    def failing(plugin_id: str, _ended: WorkerExit) -> None:
        error = supervisor.failing_error(plugin_id)
        if error is not None:
            plugins.status.note_failing(plugin_id, error)

    def stalled(_worker: WorkerProcess, report: StallReport) -> None:
        metrics.observe_stall(report.plugin_id)
        stall = Stall(report.plugin_id, report.path, report.line, time.monotonic())
        plugins.status.note_stall(stall, supervisor.limits.stall)

    supervisor.on_failing = failing
    supervisor.on_stall = stalled
