"""SQLite with one writer at a time, queued on an OS lock (see base.py)."""
