"""Security events of accounts, for whoever keeps the record (pingan.audit listens).

accounts sits below audit in the layers, so it announces and audit records. Django's own
`user_logged_in`, `user_logged_out` and `user_login_failed` cover sign-ins; this covers the rest.

`security_event` is sent with keyword arguments:
    action   what happened, an audit action name ("account_locked", "password_changed",
             "token_issued", "token_revoked", "totp_enrolled", "totp_reset",
             "recovery_code_used", "login_failed", "unlocked", "login")
    user     the account concerned (None when a name that does not exist was locked)
    actor    who did it, when that is someone else (an administrator), else None
    request  the request, when there is one (for the client address)
    detail   a small dict of facts (never a password, code or token)
"""

from django.dispatch import Signal

security_event = Signal()


def announce(action: str, *, user=None, actor=None, request=None, **detail) -> None:
    security_event.send(
        sender="accounts", action=action, user=user, actor=actor, request=request, detail=detail
    )
