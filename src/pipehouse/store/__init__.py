"""Persistence: users, API keys, plugins (functions and tools) with their history and valves."""
