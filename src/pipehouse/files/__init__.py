"""Uploaded files: received from multipart forms, kept behind a storage interface, recorded in
the database, and handed to plugins as `__files__` items (docs/files.md)."""
