"""
title: Job Poller
author: pipehouse tests
version: 0.4.0
description: Starts a job on a remote service and polls until it is done, without sleeping
  between polls; when the job never finishes, the loop spins forever on a CPU.
"""

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        JOB_URL: str = Field(default="http://jobs.invalid/run", description="job service")

    def __init__(self):
        self.valves = self.Valves()

    def _done(self) -> bool:
        return False  # the service never reports the job finished

    def pipe(self, body: dict) -> str:
        while not self._done():
            pass
        return "job finished"
