"""Tasks played out: sign-ups, cancellations, check-ins, check-outs, reports and reviews,
through the services in the last SERVICE_WINDOW and written in bulk before it (package notes).
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta

from django.conf import settings

from pingan.accounts.models import User
from pingan.core import sequences
from pingan.geo.crs import from_wgs84
from pingan.geo.distance import haversine_m
from pingan.points import ledger
from pingan.points.models import (
    EntryKind,
    RuleCode,
)
from pingan.volunteers import services as vol
from pingan.volunteers.models import (
    CheckMethod,
    Review,
    Signup,
    SignupStatus,
    Task,
    TaskKind,
    TaskStatus,
    Team,
)

from . import tales
from .base import RunBase
from .plan import (
    TaskLife,
    clock_at,
)


class Signups(RunBase):
    def schedule_tasks(self) -> None:
        for life in self.tasks:
            if life.posted_at < self.cutoff and not life.must_show:
                # Older history: written as the services would have left it (package notes).
                self.add(life.posted_at, lambda now, t=life: self._write_past(t, now), prio=2)
                if life.review_at and not life.cancel_at:
                    self.add(life.review_at, lambda now, t=life: self._award_past(t, now), prio=4)
                continue
            self.add(life.posted_at, lambda now, t=life: self._post(t, now), prio=2)
            for at, user in life.signups:
                self.add(at, lambda now, t=life, u=user: self._sign_up(t, u, now), prio=3)
            for at, user in life.cancels:
                self.add(at, lambda now, t=life, u=user: self._cancel_signup(t, u, now), prio=3)
            if life.cancel_at:
                self.add(life.cancel_at, lambda now, t=life: self._cancel_task(t, now), prio=3)
                continue
            opens = life.starts_at - timedelta(minutes=settings.VOLUNTEER_CHECKIN_EARLY_MINUTES - 5)
            self.add(opens, lambda now, t=life: self._turn_up(t, now), prio=4)
            self.add(life.ends_at + timedelta(minutes=30), lambda now, t=life: self._leave(t), 4)
            if life.review_at:
                self.add(life.review_at, lambda now, t=life: self._review(t, now), prio=4)

    # The older history, in bulk ----------------------------------------------------------

    def team_for(self, user: User, keys, at: datetime) -> Team | None:
        """The team a sign-up counts for: the first (by id) of the offered teams the person
        is an active member of, as `sign_up` picks it."""
        teams = []
        for key in keys:
            life = self.teams[key]
            if life.team is None:
                continue
            if life.leader == user or any(
                st.user == user and st.active_over(at, at) for st in life.stints
            ):
                teams.append(life.team)
        return min(teams, key=lambda t: t.pk) if teams else None

    def _write_past(self, life: TaskLife, now) -> None:
        """One task of the older history with its sign-ups, exactly as the services would
        have left it: first come first served, cancellations that promote the first in line,
        check-ins within the radius, reviews. Its points are credited at the review moment
        through the ledger (`_award_past`)."""
        rng = random.Random(f"{self.seed}:past:{life.key}")
        poster = life.poster
        task = Task.objects.create(
            code=sequences.next_code("RW", now),
            kind=life.kind,
            title=life.title,
            description=life.description,
            org=poster.org,
            org_path=poster.org.path,
            posted_by=poster,
            starts_at=life.starts_at,
            ends_at=life.ends_at,
            meeting_address=life.address,
            meeting_lng=life.point[0],
            meeting_lat=life.point[1],
            route=[[round(lng, 7), round(lat, 7)] for lng, lat in life.route],
            checkin_radius_m=settings.VOLUNTEER_CHECKIN_RADIUS_M,
            slots=life.slots,
            taken=0,
            qr_token=secrets.token_urlsafe(16),
            published_at=now,
        )
        task.teams.set([self.teams[k].team for k in life.teams if self.teams[k].team])
        if life.grid_codes:
            task.grids.set([self.s.grids[c] for c in life.grid_codes])
        life.code, life.qr_token, life.task = task.code, task.qr_token, task
        rows, taken = self._signups_past(life, task, rng)
        Signup.objects.bulk_create(rows)
        fields = {"taken": taken}
        if life.cancel_at:
            fields.update(
                status=TaskStatus.CANCELLED,
                cancelled_at=life.cancel_at,
                cancel_reason=life.cancel_reason,
            )
        Task.objects.filter(pk=task.pk).update(**fields)
        life.confirmed = [s for s in rows if s.review == Review.CONFIRMED]
        self.counts["tasks"] += 1
        self.counts["signups"] += len(rows)

    def _signups_past(self, life: TaskLife, task: Task, rng: random.Random):
        """Play the sign-up rules over the planned answers and what happened on the day."""
        events = [(at, 0, user) for at, user in life.signups]
        events += [(at, 1, user) for at, user in life.cancels]
        events.sort(key=lambda e: (e[0], e[1], e[2].pk))
        rows: dict[int, Signup] = {}
        order: list[Signup] = []
        accepted: list[int] = []
        waiting: list[int] = []
        closed = life.cancel_at or life.ends_at
        for at, kind, user in events:
            if at >= closed:
                continue
            if kind == 0:
                signup = Signup(
                    task=task,
                    user=user,
                    team=self.team_for(user, life.teams, at),
                    status=SignupStatus.WAITING,
                    created_at=at,
                )
                if len(accepted) < life.slots:
                    signup.status, signup.accepted_at = SignupStatus.ACCEPTED, at
                    accepted.append(user.pk)
                else:
                    waiting.append(user.pk)
                rows[user.pk] = signup
                order.append(signup)
                continue
            signup = rows.get(user.pk)
            if signup is None or signup.status not in (SignupStatus.ACCEPTED, SignupStatus.WAITING):
                continue
            held = signup.status == SignupStatus.ACCEPTED
            signup.status, signup.cancelled_at = SignupStatus.CANCELLED, at
            if not held:
                waiting.remove(user.pk)
                continue
            accepted.remove(user.pk)
            if waiting:
                first = rows[waiting.pop(0)]
                first.status, first.accepted_at, first.promoted = SignupStatus.ACCEPTED, at, True
                accepted.append(first.user_id)
        if life.cancel_at:
            for signup in order:
                if signup.status in (SignupStatus.ACCEPTED, SignupStatus.WAITING):
                    signup.status, signup.cancelled_at = SignupStatus.VOIDED, life.cancel_at
            return order, 0
        for signup in order:
            if signup.status == SignupStatus.ACCEPTED:
                self._on_the_day(life, task, signup, rng)
        return order, len(accepted)

    def _on_the_day(self, life: TaskLife, task: Task, signup: Signup, rng: random.Random) -> None:
        if rng.random() > life.show:
            return
        minutes = min(max(rng.gauss(-8, 9), -50), 35)
        signup.checked_in_at = life.starts_at + timedelta(minutes=minutes)
        self._position(signup, "checkin", life.point, rng)
        r = rng.random()
        if r >= 0.07:
            minutes = rng.uniform(-100, -50) if r < 0.11 else rng.gauss(3, 5)
            signup.checked_out_at = life.ends_at + timedelta(minutes=min(max(minutes, -110), 60))
            end = life.route[-1] if life.route else life.point
            self._position(signup, "checkout", end, rng)
            if rng.random() < 0.72:
                signup.report_text = self._report_text(life, rng)
                signup.reported_at = signup.checked_out_at + timedelta(minutes=rng.uniform(1, 40))
        if life.review_at is None:
            return
        signup.reviewed_at, signup.reviewed_by = life.review_at, life.poster
        if rng.random() < 0.035:
            signup.review = Review.REJECTED
            signup.review_reason = rng.choice(tales.REJECT_REASONS)
            self.counts["rejected"] += 1
            return
        signup.review = Review.CONFIRMED
        signup.hours = vol.service_hours(signup)
        signup.points_awarded = self.rule_points(RuleCode.TASK_CONFIRMED, life.kind) + int(
            self.rule_points(RuleCode.PATROL_HOUR, life.kind) * float(signup.hours)
        )

    def _position(self, signup: Signup, which: str, point, rng: random.Random) -> None:
        """By QR code, or by a position near the point (what check_in would have stored)."""
        if rng.random() < 0.25:
            setattr(signup, f"{which}_method", CheckMethod.QR)
            return
        lng, lat = self.near(point, rng, 3, 0.6 * settings.VOLUNTEER_CHECKIN_RADIUS_M)
        setattr(signup, f"{which}_method", CheckMethod.GPS)
        setattr(signup, f"{which}_lng", lng)
        setattr(signup, f"{which}_lat", lat)
        if which == "checkin":
            signup.checkin_distance_m = round(haversine_m(lng, lat, point[0], point[1]), 1)

    def rule_points(self, code: str, kind: str) -> int:
        key = (code, kind)
        if key not in self.rules:
            self.rules[key] = ledger.rule_points(code, task_kind=kind)
        return self.rules[key]

    def _award_past(self, life: TaskLife, now) -> None:
        """What `confirm_work` credits, entry for entry (same rules, amounts, reasons and
        dedupe keys), through `ledger.post`; the rule's points are read once per run rather
        than once per entry, which is all `ledger.award` adds."""
        task = life.task
        for signup in life.confirmed:
            credits = (
                (RuleCode.TASK_CONFIRMED, 1.0, f"完成任务：{task.title}", "done"),
                (
                    RuleCode.PATROL_HOUR,
                    float(signup.hours),
                    f"在岗 {signup.hours} 小时：{task.title}",
                    "hours",
                ),
            )
            total = 0
            for rule, units, reason, suffix in credits:
                amount = int(self.rule_points(rule, task.kind) * units)
                if amount <= 0:
                    continue
                entry = ledger.post(
                    signup.user,
                    amount,
                    EntryKind.EARN,
                    reason,
                    source_type="task",
                    source_ref=task.code,
                    rule=rule,
                    org=task.org,
                    team=signup.team,
                    dedupe_key=f"task:{task.code}:{signup.user_id}:{suffix}",
                    actor=life.poster,
                    now=now,
                )
                total += entry.amount if entry is not None else 0
            if total != signup.points_awarded:  # only if the rules changed mid-run
                Signup.objects.filter(pk=signup.pk).update(points_awarded=total)
            self.counts["confirmed"] += 1

    def _report_text(self, life: TaskLife, rng: random.Random) -> str:
        text = rng.choice(tales.REPORTS.get(life.kind, tales.REPORTS[TaskKind.NIGHT_PATROL]))
        return text.format(n=rng.randint(2, 6), n2=rng.randint(3, 15), spot=rng.choice(tales.SPOTS))

    def _post(self, life: TaskLife, now) -> None:
        task = self.call(
            "post",
            vol.post_task,
            life.poster,
            kind=life.kind,
            title=life.title,
            description=life.description,
            starts_at=life.starts_at,
            ends_at=life.ends_at,
            meeting_address=life.address,
            lng=life.point[0],
            lat=life.point[1],
            route=life.route,
            slots=life.slots,
            team_codes=[self.teams[k].team.code for k in life.teams if self.teams[k].team],
            grid_codes=life.grid_codes,
            now=now,
        )
        if task is not None:
            life.code, life.qr_token = task.code, task.qr_token
            self.counts["tasks"] += 1

    def _sign_up(self, life: TaskLife, user: User, now) -> None:
        if life.code and self.call("signup", vol.sign_up, user, life.code, now=now):
            self.counts["signups"] += 1

    def _cancel_signup(self, life: TaskLife, user: User, now) -> None:
        if life.code:
            self.call("cancel_signup", vol.cancel_signup, user, life.code, now=now)

    def _cancel_task(self, life: TaskLife, now) -> None:
        if life.code:
            reason = life.cancel_reason
            self.call(
                "cancel_task", vol.cancel_task, life.poster, life.code, reason=reason, now=now
            )

    def _turn_up(self, life: TaskLife, now) -> None:
        """Check-ins, from a few minutes before the start: by position near the meeting point
        (some phones send GCJ-02, as WeChat and AMap do) or by scanning the on-site code."""
        if not life.code:
            return
        rng = random.Random(f"{self.seed}:turn-up:{life.key}")
        accepted = list(
            Signup.objects.filter(task__code=life.code, status=SignupStatus.ACCEPTED)
            .select_related("user")
            .order_by("pk")
        )
        for signup in accepted:
            user = signup.user
            if user not in life.must_show and rng.random() > life.show:
                continue
            minutes = min(max(rng.gauss(-8, 9), -50), 35)
            at = max(life.starts_at + timedelta(minutes=minutes), now)
            if at > self.limit:
                continue
            with clock_at(at):
                done = self._check(vol.check_in, life, user, life.point, rng, at)
            if done is not None:
                life.on_site.append((user, signup.pk))
                self.counts["checkins"] += 1

    def _check(self, action, life: TaskLife, user: User, point, rng: random.Random, at):
        if rng.random() < 0.25:
            return self.call("check", action, user, life.code, qr_token=life.qr_token, now=at)
        lng, lat = self.near(point, rng, 3, 0.6 * settings.VOLUNTEER_CHECKIN_RADIUS_M)
        crs = "wgs84"
        if rng.random() < 0.3:
            crs = "gcj02"
            lng, lat = from_wgs84(lng, lat, crs)
        return self.call("check", action, user, life.code, lng=lng, lat=lat, crs=crs, now=at)

    def _leave(self, life: TaskLife) -> None:
        """Check-outs at the end (a few leave early, a few forget) and the reports back."""
        rng = random.Random(f"{self.seed}:leave:{life.key}")
        end = life.route[-1] if life.route else life.point
        for user, _signup_id in life.on_site:
            r = rng.random()
            forced = user in life.must_show
            if r < 0.07 and not forced:
                continue  # forgot to check out: the task's end counts
            minutes = rng.uniform(-100, -50) if r < 0.11 and not forced else rng.gauss(3, 5)
            at = life.ends_at + timedelta(minutes=min(max(minutes, -110), 60))
            if at > self.limit:
                continue
            with clock_at(at):
                self._check(vol.check_out, life, user, end, rng, at)
            if forced or rng.random() < 0.72:
                text = self._report_text(life, rng)
                at = at + timedelta(minutes=rng.uniform(1, 40))
                if at <= self.limit:
                    with clock_at(at):
                        self.call("report", vol.submit_report, user, life.code, text=text, now=at)
                    self.counts["reports"] += 1

    def _review(self, life: TaskLife, now) -> None:
        rng = random.Random(f"{self.seed}:review:{life.key}")
        for user, signup_id in life.on_site:
            if rng.random() < 0.035 and user not in life.must_show:
                reason = rng.choice(tales.REJECT_REASONS)
                self.call("reject", vol.reject_work, life.poster, signup_id, reason=reason, now=now)
                self.counts["rejected"] += 1
            elif self.call("confirm", vol.confirm_work, life.poster, signup_id, now=now):
                self.counts["confirmed"] += 1
