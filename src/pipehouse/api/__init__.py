"""The HTTP server: OpenAI API, Open WebUI-compatible admin API, auth, observability."""
