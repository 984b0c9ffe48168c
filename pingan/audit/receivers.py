"""What the audit hears without being called: sign-ins and sign-outs (Django's auth signals),
the accounts app's security events (`pingan.accounts.signals.security_event`), and every edit
made in the Django admin (its LogEntry rows). Connected in AuditConfig.ready().

The project keeps business side effects out of signals (DESIGN.md); the audit is the
exception that proves it: accounts sits below audit and announces, and the admin is Django's.
"""

import json
import logging

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.utils import translation
from django.utils.text import capfirst

from pingan.accounts.models import User
from pingan.accounts.signals import security_event

from . import context
from .models import Action, Outcome
from .services import record, recorded_in_this_request

log = logging.getLogger(__name__)

ACCOUNT = "account"
# Admin edits of these are configuration: the org tree and grids, response targets, incident
# categories, dispute risk rules, point rules.
CONFIG_MODELS = frozenset(
    {
        "orgs.orgunit",
        "orgs.grid",
        "orgs.slapolicy",
        "incidents.category",
        "disputes.riskrule",
        "points.pointrule",
    }
)
PERMISSION_MODELS = frozenset({"auth.group", "auth.permission"})
PERMISSION_FIELDS = frozenset({"groups", "user_permissions", "is_superuser", "is_staff"})
FLAGS = {ADDITION: "add", CHANGE: "change", DELETION: "delete"}


def _via(request) -> str:
    path = getattr(request, "path_info", "") or ""
    return "api" if path.startswith("/api/") else "page"


def logged_in(sender, request, user, **kwargs):
    detail = {"via": _via(request)}
    if user.is_superuser:
        detail["superuser"] = True
        state = context.current()
        if state is not None:
            state.superuser = user
    if not recorded_in_this_request(Action.LOGIN, ACCOUNT, user.username):
        record(user, Action.LOGIN, ACCOUNT, user.username, detail=detail, request=request)


def logged_out(sender, request, user, **kwargs):
    if user is None or not user.pk:
        return
    record(
        user, Action.LOGOUT, ACCOUNT, user.username, detail={"via": _via(request)}, request=request
    )


def login_failed(sender, credentials, request=None, **kwargs):
    # Django has already replaced the password in `credentials` with stars.
    username = str(credentials.get("username") or "")[:150]
    if recorded_in_this_request(Action.LOGIN_FAILED, ACCOUNT, username):
        return
    record(
        None,
        Action.LOGIN_FAILED,
        ACCOUNT,
        username,
        detail={"username": username, "via": _via(request)},
        ip=None,
        request=request,
        outcome=Outcome.FAILED,
    )


def security_event_heard(sender, action, user=None, actor=None, request=None, detail=None, **kw):
    detail = dict(detail or {})
    name = user.username if user is not None else str(detail.get("username") or "")
    if action in (Action.LOGIN, Action.LOGIN_FAILED) and recorded_in_this_request(
        action, ACCOUNT, name
    ):
        return
    if actor is not None and user is not None and actor.pk != user.pk:
        detail.setdefault("user", user.username)
    who = actor if actor is not None else user
    outcome = Outcome.FAILED if action == Action.LOGIN_FAILED else Outcome.SUCCESS
    record(who, action, ACCOUNT, name, detail=detail, request=request, outcome=outcome)


# --- the Django admin ---------------------------------------------------------------------------


def _field_names(model, labels: list[str]) -> list[str]:
    """The change message names fields by their form label; back to field names."""
    if model is None:
        return labels
    names = {}
    with translation.override(None):
        for f in model._meta.get_fields():
            verbose = getattr(f, "verbose_name", None)
            if verbose is not None:
                names[str(verbose)] = f.name
                names[capfirst(str(verbose))] = f.name
    return [names.get(label, label) for label in labels]


def _changed(entry: LogEntry) -> list[str]:
    try:
        message = json.loads(entry.change_message or "[]")
    except ValueError:
        return []
    labels = []
    for part in message if isinstance(message, list) else []:
        changed = part.get("changed") if isinstance(part, dict) else None
        if isinstance(changed, dict):
            labels += [str(x) for x in changed.get("fields", [])]
    ct = entry.content_type if entry.content_type_id else None
    model = ct.model_class() if ct is not None else None
    return sorted(set(_field_names(model, labels)))


def admin_entry(entry: LogEntry) -> None:
    """Turn one admin LogEntry into an audit entry (once)."""
    state = context.current()
    if state is not None:
        if entry.pk in state.log_entries:
            return
        state.log_entries.add(entry.pk)
    ct = entry.content_type
    model = f"{ct.app_label}.{ct.model}" if ct is not None else ""
    fields = _changed(entry)
    object_type, object_ref = model, entry.object_id or ""
    if model == "accounts.user":
        object_type = ACCOUNT
        object_ref = (
            User.objects.filter(pk=entry.object_id or 0).values_list("username", flat=True).first()
            or object_ref
        )
        if entry.action_flag == ADDITION:
            action = Action.ACCOUNT_CREATED
        elif PERMISSION_FIELDS & set(fields):
            action = Action.PERMISSION_CHANGED
        elif "role" in fields:
            action = Action.ROLE_CHANGED
        elif entry.action_flag == DELETION:
            action = Action.ADMIN_CHANGE
        else:
            action = Action.ACCOUNT_CHANGED
        if recorded_in_this_request(action, object_type, object_ref):
            # The accounts app announced this change (account_created, role_changed, with the
            # old and new role); what else the same save changed is still written down.
            others = [f for f in fields if f != "role"]
            if action != Action.ROLE_CHANGED or not others:
                return
            action = Action.ACCOUNT_CHANGED
    elif model in PERMISSION_MODELS:
        action = Action.PERMISSION_CHANGED
    elif model in CONFIG_MODELS:
        action = Action.CONFIG_CHANGE
    else:
        action = Action.ADMIN_CHANGE
    record(
        entry.user,
        action,
        object_type,
        object_ref,
        detail={
            "admin": FLAGS.get(entry.action_flag, str(entry.action_flag)),
            "model": model,
            "object": (entry.object_repr or "")[:200],
            "fields": fields,
            "log_entry": entry.pk,
        },
    )


def log_entry_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        admin_entry(instance)


def connect() -> None:
    user_logged_in.connect(logged_in, dispatch_uid="pingan.audit.login")
    user_logged_out.connect(logged_out, dispatch_uid="pingan.audit.logout")
    user_login_failed.connect(login_failed, dispatch_uid="pingan.audit.login_failed")
    security_event.connect(security_event_heard, dispatch_uid="pingan.audit.security_event")
    post_save.connect(log_entry_saved, sender=LogEntry, dispatch_uid="pingan.audit.log_entry")
