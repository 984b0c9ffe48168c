"""Who the volunteers are, by username: planned by the county (`pingan.demo.county.plan`)
before the volunteers' run finds them. Depends on the tales alone, so the plan can import it.
"""

from . import tales

# Volunteers planned by the county (volunteer1 … volunteerN) and one leader per team.
VOLUNTEERS = 520


def leader_usernames() -> list[str]:
    return [f"leader{n}" for n in range(1, len(tales.TEAMS) + 1)]


def clerk_usernames() -> list[str]:
    return [f"clerk{n}" for n in range(1, len(tales.SHOPS) + 1)]
