"""OpenAI-compatible model servers (Ollama, vLLM, OpenAI, ...) behind pipehouse's filters."""
