"""What makes a SECRET_KEY unfit for a real deployment.

SECRET_KEY signs sessions, CSRF tokens and password-reset links; whoever knows it can forge
them. Outside the demo pingan refuses to start with a key that is absent, short, repetitive or
one of Django's generated placeholders (settings.py). The rules are Django's own for
`check --deploy` (security.W009): at least 50 characters, at least 5 distinct ones, and not
the "django-insecure-" prefix `startproject` writes.
"""

MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 5
INSECURE_PREFIX = "django-insecure"


def weakness(key: str | None) -> str | None:
    """Why `key` may not be used, or None when it may."""
    if not key:
        return "SECRET_KEY must be set"
    if key.startswith(INSECURE_PREFIX):
        return f'SECRET_KEY must not be a generated placeholder ("{INSECURE_PREFIX}…")'
    if len(key) < MIN_LENGTH:
        return f"SECRET_KEY must be at least {MIN_LENGTH} characters long"
    if len(set(key)) < MIN_UNIQUE_CHARACTERS:
        return f"SECRET_KEY must have at least {MIN_UNIQUE_CHARACTERS} different characters"
    return None
