"""Database backends of pingan."""
