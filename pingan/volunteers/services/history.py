"""A volunteer's record: their sign-ups and the totals of the work confirmed."""

from decimal import Decimal

from django.db.models import Count, Sum

from pingan.accounts.models import User

from ..models import Review, Signup


def history_for(user: User) -> dict:
    """A volunteer's record: every sign-up (newest first), tasks done, hours, task points."""
    signups = (
        Signup.objects.filter(user=user)
        .select_related("task", "team")
        .order_by("-created_at", "-pk")
    )
    done = Signup.objects.filter(user=user, review=Review.CONFIRMED).aggregate(
        n=Count("pk"), hours=Sum("hours"), points=Sum("points_awarded")
    )
    return {
        "signups": signups,
        "tasks_done": done["n"],
        "hours": Decimal(done["hours"] or 0).quantize(Decimal("0.01")),
        "points_earned": int(done["points"] or 0),
    }
