"""The volunteer profile (real name, mobile, skills, availability, home grid): a resident
fills it in before joining a team or signing up for a task.
"""

from django.db import transaction

from pingan.accounts.models import User
from pingan.core import clock
from pingan.core.errors import ServiceError
from pingan.orgs.models import Grid

from ..models import VolunteerProfile
from ..validation import clean_availability, clean_mobile, clean_real_name, clean_skills
from .guards import _require_resident


def profile_of(user: User) -> VolunteerProfile | None:
    if not user.is_authenticated:
        return None
    return VolunteerProfile.objects.select_related("home_grid").filter(user=user).first()


@transaction.atomic
def save_profile(
    user: User,
    *,
    real_name,
    phone,
    skills=(),
    availability=(),
    home_grid_code=None,
    now=None,
) -> VolunteerProfile:
    """Create or update the caller's volunteer profile (residents only)."""
    _require_resident(user, "只有群众和义警可以填写志愿者档案")
    now = now or clock.now()
    real_name = clean_real_name(real_name)
    phone = clean_mobile(phone)
    skills = clean_skills(skills)
    availability = clean_availability(availability)
    home_grid = None
    if home_grid_code not in (None, ""):
        if not isinstance(home_grid_code, str) or len(home_grid_code) > 32:
            raise ServiceError("bad_grid", "居住网格无效", details={"field": "home_grid"})
        home_grid = Grid.objects.filter(code=home_grid_code.strip()).first()
        if home_grid is None:
            raise ServiceError(
                "bad_grid", f"居住网格不存在：{home_grid_code}", details={"field": "home_grid"}
            )
    fields = {
        "real_name": real_name,
        "phone": phone,
        "skills": skills,
        "availability": availability,
        "home_grid": home_grid,
        "updated_at": now,
    }
    profile, created = VolunteerProfile.objects.select_for_update().get_or_create(
        user=user, defaults={**fields, "created_at": now}
    )
    if not created:
        for name, value in fields.items():
            setattr(profile, name, value)
        profile.save(update_fields=[*fields, "phone_hash"])  # the phone's blind index
    return profile
