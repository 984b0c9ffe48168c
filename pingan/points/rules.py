"""The earning rules a new installation starts with; stations retune them in the admin."""

from .models import RuleCode

DEFAULT_RULES = [
    {"code": RuleCode.TASK_CONFIRMED, "points": 10, "task_kinds": []},
    {"code": RuleCode.PATROL_HOUR, "points": 5, "task_kinds": ["night_patrol"]},
    {"code": RuleCode.TIP_CONFIRMED, "points": 20, "task_kinds": []},
    {"code": RuleCode.TIP_ARREST, "points": 100, "task_kinds": []},
    {"code": RuleCode.MEDIATION_HELP, "points": 15, "task_kinds": []},
]


def ensure_default_rules(model) -> None:
    """Create the rules that are missing; never overwrite a station's tuning. Takes the model
    so the data migration can pass its historical one."""
    for rule in DEFAULT_RULES:
        model.objects.get_or_create(
            code=str(rule["code"]),
            defaults={"points": rule["points"], "task_kinds": list(rule["task_kinds"])},
        )
