"""The web console: pages served at `/` for managing plugins and talking to them in a browser.

Server-rendered page shells (Jinja2) with small vanilla JavaScript modules that call the same
HTTP API as every other client, signed in with a session cookie (`api/sessions.py`). Static
assets ship inside the package; nothing is fetched from elsewhere at run time.
"""
