"""Teams and their people: founded by a chief or the commander, joined by invite link,
approved or rejected by the leader, left or removed; the first members written, not played.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

from pingan.accounts.models import Role, User
from pingan.demo.county.geography import TOWNS
from pingan.orgs import services as orgs
from pingan.orgs.models import OrgKind
from pingan.volunteers import services as vol
from pingan.volunteers.models import (
    Availability,
    Membership,
    MembershipStatus,
    Skill,
    VolunteerProfile,
)

from . import tales
from .base import RunBase
from .plan import (
    URBAN,
    Stint,
    TeamLife,
)
from .roster import VOLUNTEERS, leader_usernames


class Teams(RunBase):
    # People --------------------------------------------------------------------------------

    def plan_teams(self) -> None:
        rng = self.rng
        leaders = leader_usernames()
        pool = [f"volunteer{n}" for n in range(2, VOLUNTEERS + 1) if f"volunteer{n}" in self.users]
        rng.shuffle(pool)
        offices_by_name = {(o.town, o.name): o for o in self.plan.offices}
        for index, spec in enumerate(tales.TEAMS):
            if spec.org == "county":
                org, founder = self.s.county, self.users["commander"]
            elif spec.org == "station":
                org, founder = self.s.stations[spec.town], self.users[f"chief{spec.town + 1}"]
            else:
                office = offices_by_name[(spec.town, spec.org)]
                org, founder = self.s.offices[office.code], self.users[f"chief{spec.town + 1}"]
            if spec.grids == "urban":
                grids = [g for g in self.grids_by_town[spec.town] if g.kind == URBAN]
            elif spec.grids == "office":
                grids = list(offices_by_name[(spec.town, spec.org)].grids)
            elif spec.org == "county":
                grids = []
            else:
                grids = list(self.grids_by_town[spec.town])
            # Most teams date from before the year; two were founded during it.
            if spec.key in ("park", "yunling"):
                founded = self.now - timedelta(days=rng.uniform(150, 250))
            else:
                founded = self.start - timedelta(days=rng.uniform(10, 40))
            founded = self.working(founded, rng, 9, 17)
            life = TeamLife(
                spec, self.users[leaders[index]], founder, org, grids, founded, officers=[]
            )
            station = orgs.station_of(org)
            life.officers = sorted(
                (
                    u
                    for u in self.users.values()
                    if u.role == Role.OFFICER
                    and u.org_id is not None
                    and not u.username.startswith("team")
                    and orgs.station_of(u.org).pk == station.pk
                ),
                key=lambda u: int(u.username[7:]),
            )
            if org.kind in (OrgKind.POLICE_OFFICE, OrgKind.JOINT_STATION):
                own = [u for u in life.officers if u.org_id == org.pk]
                life.officers = own or life.officers
            self.teams[spec.key] = life
            self.town_of[life.leader.pk] = spec.town
            self.weight[life.leader.pk] = 2.5
        town_members: dict[int, list[User]] = defaultdict(list)
        for spec in tales.TEAMS:
            if spec.key == "rescue":
                continue
            life = self.teams[spec.key]
            wanted = spec.size - 1
            if spec.key == "chengguan":
                self._stint(life, self.volunteer1, founding=True, fate="active")
                wanted -= 1
            for _ in range(wanted):
                if not pool:
                    break
                user = self.users[pool.pop()]
                self._stint(life, user, founding=rng.random() < 0.62, fate="active")
            extras = {"left": 0.03, "removed": 0.012}
            if spec.requires_approval:
                extras["rejected"] = 0.035
            for fate, share in extras.items():
                for _ in range(max(1, round(share * spec.size))):
                    if pool:
                        self._stint(life, self.users[pool.pop()], founding=False, fate=fate)
            pending = 3 if spec.key == "chengguan" else int(spec.requires_approval)
            for _ in range(pending):
                if pool:
                    self._stint(life, self.users[pool.pop()], founding=False, fate="pending")
            town_members[spec.town] += [s.user for s in life.stints if s.fate == "active"]
        # The rescue team: a few from the town teams, the rest new to volunteering.
        rescue = self.teams["rescue"]
        veterans = sorted(
            (u for members in town_members.values() for u in members if u != self.volunteer1),
            key=lambda u: u.pk,
        )
        for user in rng.sample(veterans, tales.RESCUE_FROM_TOWN_TEAMS):
            self._stint(rescue, user, founding=rng.random() < 0.5, fate="active")
        for _ in range(rescue.spec.size - 1 - tales.RESCUE_FROM_TOWN_TEAMS):
            if pool:
                self._stint(rescue, self.users[pool.pop()], founding=True, fate="active")
        if pool:
            self._stint(rescue, self.users[pool.pop()], founding=False, fate="pending")
        self.weight[self.volunteer1.pk] = 6.0

    def _stint(self, life: TeamLife, user: User, *, founding: bool, fate: str) -> None:
        rng = self.rng
        spec = life.spec
        if fate == "pending":
            applied = self.now - timedelta(hours=rng.uniform(2, 60))
        elif founding:
            applied = life.founded_at + timedelta(days=rng.uniform(0.05, 14))
        else:
            first = life.founded_at + timedelta(days=14)
            applied = first + (self.now - timedelta(days=20) - first) * rng.random()
        applied = self.working(applied, rng, 7, 22)
        stint = Stint(user, spec.key, applied, fate)
        if spec.requires_approval and fate != "pending":
            stint.decided_at = self.working(applied + timedelta(hours=rng.uniform(0.3, 40)), rng)
            stint.by_chief = rng.random() < 0.1
        begun = stint.decided_at or applied
        if fate in ("left", "removed"):
            ended = begun + timedelta(days=rng.uniform(40, 260))
            # Within the year, so leaving and removal are played through the services.
            ended = max(ended, self.start + timedelta(days=rng.uniform(5, 60)))
            stint.ended_at = self.working(min(ended, self.now - timedelta(days=2)), rng)
        life.stints.append(stint)
        if user.pk not in self.town_of:
            self.town_of[user.pk] = spec.town
            self.weight[user.pk] = rng.lognormvariate(0, 0.8)

    def profile_values(self, life: TeamLife, user: User) -> dict:
        """What a person writes in their profile, with skills that suit the team they first
        meet (the arguments of `save_profile`)."""
        rng = random.Random(f"{self.seed}:profile:{user.username}")
        spec = life.spec
        skills = rng.sample(list(spec.skills), k=min(len(spec.skills), rng.choice((1, 1, 2, 3))))
        if rng.random() < 0.15:
            skills.append(rng.choice(Skill.values))
        availability = list(rng.choice(tales.AVAILABILITY_BY_AGE))
        availability = rng.sample(availability, k=rng.choice((1, 2, 2)))
        if spec.key == "rescue":
            availability.append(Availability.ON_CALL)
        if user == self.volunteer1:
            home = self.plan.officer_grids["officer1"][0]
        elif life.grids:
            home = rng.choice(life.grids)
        else:
            home = rng.choice(self.grids_by_town[rng.randrange(len(TOWNS))])
        return {
            "real_name": user.display_name,
            "phone": user.phone,
            "skills": list(dict.fromkeys(skills)),
            "availability": list(dict.fromkeys(availability)),
            "home_grid_code": home.code,
        }

    def is_old(self, stint: Stint) -> bool:
        """Applied and decided before the year began: part of the written history."""
        return stint.fate != "pending" and (stint.decided_at or stint.applied_at) < self.start

    def schedule_teams(self) -> None:
        first: dict[int, tuple] = {}
        for life in self.teams.values():
            first[life.leader.pk] = (life.founded_at - timedelta(hours=2), life, life.leader, False)
            for stint in life.stints:
                at = stint.applied_at - timedelta(minutes=5)
                if stint.user.pk not in first or at < first[stint.user.pk][0]:
                    first[stint.user.pk] = (at, life, stint.user, self.is_old(stint))
        old_profiles = []
        for user_id in sorted(first):
            at, life, user, old = first[user_id]
            values = self.profile_values(life, user)
            if old:
                old_profiles.append((at, user, values))
            else:
                self.add(
                    at,
                    lambda now, u=user, v=values: self.call(
                        "profile", vol.save_profile, u, **v, now=now
                    ),
                    prio=0,
                )
        for life in self.teams.values():

            def found(now, life=life):
                life.team = vol.create_team(
                    life.founder,
                    name=life.spec.name,
                    org=life.org,
                    description=life.spec.description,
                    requires_approval=life.spec.requires_approval,
                    leader=life.leader,
                    grid_codes=[g.code for g in life.grids],
                    now=now,
                )
                self.counts["teams"] += 1

            self.add(life.founded_at, found, prio=1)
            for stint in life.stints:
                if not self.is_old(stint):
                    self.add(
                        stint.applied_at, lambda now, st=stint, lf=life: self._join(lf, st, now)
                    )
                    if stint.decided_at:
                        self.add(
                            stint.decided_at,
                            lambda now, st=stint, lf=life: self._decide(lf, st, now),
                        )
                if stint.ended_at:
                    self.add(stint.ended_at, lambda now, st=stint, lf=life: self._end(lf, st, now))
        self.add(self.start - timedelta(seconds=1), lambda now: self._write_old(old_profiles), 0)

    def _write_old(self, profiles: list) -> None:
        """The teams' first members, who joined before the year began, as `save_profile`,
        `join_team` and `decide_membership` left them (package notes: written, not played)."""
        VolunteerProfile.objects.bulk_create(
            [
                VolunteerProfile(
                    user=user,
                    real_name=values["real_name"],
                    phone=values["phone"],
                    skills=values["skills"],
                    availability=values["availability"],
                    home_grid=self.s.grids[values["home_grid_code"]],
                    created_at=at,
                    updated_at=at,
                )
                for at, user, values in profiles
            ]
        )
        rows = []
        for life in self.teams.values():
            for stint in life.stints:
                if not self.is_old(stint):
                    continue
                decider = life.founder if stint.by_chief else life.leader
                row = Membership(
                    team=life.team,
                    user=stint.user,
                    status=MembershipStatus.ACTIVE,
                    applied_at=stint.applied_at,
                    joined_at=stint.active_from,
                    decided_by=decider if stint.decided_at else None,
                )
                if stint.fate == "rejected":
                    rng = random.Random(f"{self.seed}:decide:{stint.user.username}:{life.spec.key}")
                    row.status, row.joined_at = MembershipStatus.REJECTED, None
                    row.ended_at, row.note = stint.decided_at, rng.choice(tales.JOIN_REJECT_NOTES)
                rows.append((stint, row))
        Membership.objects.bulk_create([row for _, row in rows])
        for stint, row in rows:
            stint.membership_id = row.pk
        self.counts["members_written"] += len(rows)

    def _join(self, life: TeamLife, stint: Stint, now) -> None:
        membership = self.call("join", vol.join_team, stint.user, life.team.invite_token, now=now)
        if membership is not None:
            stint.membership_id = membership.pk

    def _decide(self, life: TeamLife, stint: Stint, now) -> None:
        if stint.membership_id is None:
            return
        approve = stint.fate != "rejected"
        rng = random.Random(f"{self.seed}:decide:{stint.user.username}:{life.spec.key}")
        note = "" if approve else rng.choice(tales.JOIN_REJECT_NOTES)
        actor = life.founder if stint.by_chief else life.leader
        self.call(
            "decide",
            vol.decide_membership,
            actor,
            stint.membership_id,
            approve=approve,
            note=note,
            now=now,
        )

    def _end(self, life: TeamLife, stint: Stint, now) -> None:
        if stint.fate == "left":
            self.call("leave", vol.leave_team, stint.user, life.team.code, now=now)
        elif stint.membership_id is not None:
            rng = random.Random(f"{self.seed}:remove:{stint.user.username}:{life.spec.key}")
            self.call(
                "remove",
                vol.remove_member,
                life.leader,
                stint.membership_id,
                reason=rng.choice(tales.REMOVE_REASONS),
                now=now,
            )
