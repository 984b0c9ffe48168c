"""Names of the channel groups a socket joins. Transport vocabulary only: which groups an
event goes to is decided by the domain that owns the event (its `push` module)."""


def org_group(org_id) -> str:
    """Staff whose scope root is this org unit (incidents)."""
    return f"org.{org_id}"


def user_group(user_id) -> str:
    """One person, on every device they have a page open on."""
    return f"user.{user_id}"


ALL_GROUP = "org.all"  # superusers: every incident


def team_group(team_id) -> str:
    """Active members of a volunteer team: hear the tasks offered to the team."""
    return f"vteam.{team_id}"


def volunteer_grid_group(grid_id) -> str:
    """Volunteers living in a grid: hear the tasks offered to the grid."""
    return f"vgrid.{grid_id}"


DISPUTE_ALL_GROUP = "disputes.all"


def dispute_org_group(org_id) -> str:
    """Commanders over this org unit (disputes are narrower than incidents)."""
    return f"disputes.org.{org_id}"
