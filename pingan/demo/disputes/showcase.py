"""The disputes' showcase: what the demo must show right now (a red case and a due visit for
officer1, an order that has escalated, overrides, reviews, pending requests ...), in fixed
places at fixed distances from `now`.
"""

from __future__ import annotations

from datetime import timedelta

from pingan.disputes.models import (
    ROUTE_BODIES,
    PartyRole,
    Risk,
    Route,
    RouteBody,
    SessionOutcome,
)

from .planning import REQUEST_CASTS, N, Planner
from .tales import (
    DECLINE_REASONS,
    ONLINE_THREAT_TALE,
    OVERRIDE_DOWN,
    OVERRIDE_UP,
    OVERTIME_TALE,
    RED_TALES,
    REPEAT_TALE,
    REROUTES,
    REVIEW_NOTES,
    SMOKE_TALE,
    YELLOW_TALES,
    green_tale,
)


class Showcase(Planner):
    """The fixed lives of the showcase, on top of the planner."""

    def showcase(self, pool: list) -> None:
        """What the demo must show right now, in fixed places at fixed distances from `now`."""
        self._officer1()
        self._citizen1()
        self._orders_and_overrides()
        self._yellow_for_each_reason()
        self._red_and_case(pool)
        self._requests_and_relapses()
        self._in_progress()

    def _officer1(self) -> None:
        """officer1's own cases: a red one tracked as an order, a yellow one reviewed today,
        ordinary ones in progress, and one whose 7-day return visit is due."""
        users, ago = self.structure.users, self.ago
        grid1 = users["grid1"]
        home, near = self.home, self.near
        life = self.life(home, RED_TALES[0], "cadre_grid", filer=grid1)
        life.start(ago(1, 3))
        life.route(ago(1, 1), Route.GRASSROOTS, RouteBody.GRID_STATION)
        life.order(ago(0, 20), deadline=ago(-5))
        life.session(ago(0, 5), SessionOutcome.ADJOURNED)
        life = self.life(near[0], YELLOW_TALES[0], "community_work", filer=home.officer)
        life.start(ago(6))
        life.route(ago(5, 20), Route.GRASSROOTS, RouteBody.VILLAGE_COMMITTEE)
        life.session(ago(2), SessionOutcome.PARTIAL)
        life.review(self.today(), REVIEW_NOTES[1])
        life = self.life(home, green_tale("楼上漏水纠纷"), "cadre_grid", filer=grid1)
        life.start(ago(3, 2))
        life.route(ago(2, 22), Route.GRASSROOTS, RouteBody.VILLAGE_COMMITTEE)
        life = self.life(near[-1], green_tale("预付卡退费纠纷"), "online", filer=home.officer)
        life.start(ago(2, 5))
        life.route(ago(2, 1), Route.DEPARTMENTAL, RouteBody.MARKET)
        life = self.life(home, green_tale("楼道堆放杂物纠纷"), "cadre_grid", filer=grid1)
        life.start(ago(12))
        life.route(ago(11, 20), Route.GRASSROOTS, RouteBody.VILLAGE_COMMITTEE)
        life.session(ago(10), SessionOutcome.AGREED)
        life.resolve(ago(9, 22))

    def _citizen1(self) -> None:
        """citizen1's requests: one settled months ago, one being mediated, one waiting."""
        citizen1, ago = self.structure.users["citizen1"], self.ago
        life = self.life(
            self.near[0], green_tale("小区停车位纠纷"), "citizen_request", requester=citizen1
        )
        life.start(ago(130))
        life.accept(ago(129, 20))
        life.route(ago(129, 2), Route.GRASSROOTS, RouteBody.VILLAGE_COMMITTEE)
        life.session(ago(126), SessionOutcome.AGREED)
        life.resolve(ago(125, 22))
        life.visits()
        life = self.life(
            self.home, green_tale("树木遮挡采光纠纷"), "citizen_request", requester=citizen1
        )
        life.start(ago(8))
        life.accept(ago(7, 20))
        life.route(ago(7, 2), Route.JUDICIAL, RouteBody.MEDIATION_COMMITTEE)
        life.session(ago(3), SessionOutcome.ADJOURNED)
        self.life(self.home, SMOKE_TALE, "citizen_request", requester=citizen1).start(ago(0, 5))

    def _orders_and_overrides(self) -> None:
        ago, village = self.ago, self.village
        # A work crew's unpaid wages: rerouted to the labour inspectors; the order is overdue
        # and the sweeper has escalated it one level (office → station).
        life = self.life(self.park, YELLOW_TALES[4], "cadre_grid")
        life.start(ago(12))
        life.route(ago(11, 20), Route.GRASSROOTS, RouteBody.GRID_STATION)
        life.session(ago(10), SessionOutcome.FAILED)
        life.route(ago(9, 22), Route.DEPARTMENTAL, RouteBody.LABOUR, REROUTES["labour"])
        life.order(ago(9, 20), deadline=ago(1, 12))
        life.session(ago(4), SessionOutcome.PARTIAL)
        # Months ago: a threat of arson; its order finished late after one escalation.
        life = self.life(village(1), RED_TALES[1], "cadre_grid")
        life.start(ago(75))
        life.route(ago(74, 20), Route.JUDICIAL, RouteBody.JUDICIAL_OFFICE)
        life.order(ago(74), deadline=ago(66))
        life.session(ago(71), SessionOutcome.ADJOURNED)
        life.session(ago(64, 6), SessionOutcome.AGREED)
        life.agreement(ago(64, 5))
        life.sign(ago(64, 4))
        life.resolve(ago(64, 2))
        life.visits()
        # A figure of speech the keyword rule took for a threat, turned down to yellow; a
        # quiet case the grid worker knows is about to blow up, turned up to red.
        place = village(2)
        life = self.life(place, OVERTIME_TALE, "community_work", filer=place.officer)
        life.start(ago(5))
        life.override(ago(4, 20), Risk.YELLOW, OVERRIDE_DOWN)
        life.route(ago(4, 18), Route.DEPARTMENTAL, RouteBody.LABOUR)
        life = self.life(village(3), green_tale("修建围墙占用通道纠纷"), "cadre_grid")
        life.start(ago(4, 6))
        life.route(ago(4), Route.GRASSROOTS, RouteBody.VILLAGE_COMMITTEE)
        life.override(ago(2), Risk.RED, OVERRIDE_UP)

    def _yellow_for_each_reason(self) -> None:
        """Yellow for a repeat, a child, a large amount and weeks without progress (the elderly
        father and the work crew are yellow too)."""
        ago, village, community = self.ago, self.village, self.community
        place = village(4)
        roles = (PartyRole.APPLICANT, PartyRole.RESPONDENT)
        pair = [self.cast.person(place, role, known=True) for role in roles]
        words = {"a": pair[0].name, "b": pair[1].name, "place": place.short_name}
        tale = green_tale("排水沟堵塞引发邻里纠纷")
        life = self.life(place, tale, "cadre_grid", parties=(pair, words))
        life.start(ago(72))
        life.route(ago(71, 20), Route.GRASSROOTS, RouteBody.VILLAGE_COMMITTEE)
        life.session(ago(69), SessionOutcome.AGREED)
        life.resolve(ago(68, 22))
        life.visits()
        life = self.life(place, REPEAT_TALE, "cadre_grid", parties=(pair, words))
        life.start(ago(4))
        life.route(ago(3, 20), Route.GRASSROOTS, RouteBody.VILLAGE_COMMITTEE)
        life = self.life(community(5), YELLOW_TALES[2], "community_work")
        life.start(ago(7))
        life.route(ago(6, 20), Route.JUDICIAL, RouteBody.MEDIATION_COMMITTEE)
        life.session(ago(3), SessionOutcome.ADJOURNED)
        life.review(self.today() - timedelta(minutes=20), REVIEW_NOTES[0])
        life = self.life(village(5), YELLOW_TALES[6], "community_work")
        life.start(ago(18))
        life.route(ago(17, 20), Route.JUDICIAL, RouteBody.SHARED_COURT)
        life.session(ago(12), SessionOutcome.ADJOURNED)
        life.note(ago(6), "已委托第三方鉴定机构对房屋裂缝进行鉴定，等待鉴定结论")
        life = self.life(village(1, 1), green_tale("山林权属纠纷"), "cadre_grid")
        life.start(ago(45))
        life.route(ago(44, 20), Route.DEPARTMENTAL, RouteBody.OTHER_DEPARTMENT)
        life.session(ago(39), SessionOutcome.FAILED)
        life.note(ago(19), "已函请主管部门派员勘界，等待勘界结果")

    def _red_and_case(self, pool: list) -> None:
        """A threat of self-harm (tracked), a threat posted online, and a handled call that
        flared up again: converted from the incident, red."""
        ago = self.ago
        life = self.life(self.village(3, 1), RED_TALES[4], "community_work")
        life.start(ago(3))
        life.route(ago(2, 20), Route.JUDICIAL, RouteBody.JUDICIAL_OFFICE)
        life.order(ago(2, 18), deadline=ago(-10))
        life.session(ago(1), SessionOutcome.ADJOURNED)
        life = self.life(self.community(2), ONLINE_THREAT_TALE, "online")
        life.start(ago(0, 20))
        life.route(ago(0, 17), Route.DEPARTMENTAL, RouteBody.LABOUR)
        handled = [r for r in pool if r["last"] <= self.now - timedelta(days=1)]
        if not handled:
            return  # no incident history to convert
        row = handled[-1]
        pool.remove(row)
        if row["last"] < self.now - timedelta(days=20):
            # A thin history has no call from the last weeks: convert the latest one, settled.
            life = self.case_life(row, self.working(row["last"] + timedelta(hours=3)))
            self.settle(life, N)
            return
        text = (
            f"{row['description']}。民警到场处置，{row['outcome_note']}。事后回访得知，对方仍扬言"
            "要拿菜刀上门算账，矛盾有激化风险。"
        )
        life = self.case_life(row, row["last"] + timedelta(hours=3), narrative=text)
        life.route(life.later(1, 6), Route.GRASSROOTS, RouteBody.GRID_STATION)
        life.session(life.later(24, 72), SessionOutcome.ADJOURNED)

    def _requests_and_relapses(self) -> None:
        """Residents waiting for an answer, two requests declined, a loan repaid in part that
        the 7-day visit found again (reopened), and last year's relapse settled for good."""
        users, ago, village, community = (
            self.structure.users,
            self.ago,
            self.village,
            self.community,
        )
        for n, (place, hours) in enumerate(((village(2, 1), 26), (community(1), 2)), start=2):
            tale = self.pick_tale(place, N, REQUEST_CASTS)
            life = self.life(place, tale, "citizen_request", requester=users[f"citizen{n}"])
            life.start(ago(0, hours))
        for n, (place, days) in enumerate(((village(4, 1), 200), (community(3), 30)), start=4):
            tale = self.pick_tale(place, N, REQUEST_CASTS)
            life = self.life(place, tale, "citizen_request", requester=users[f"citizen{n}"])
            life.start(ago(days))
            life.decline(ago(days - 1), DECLINE_REASONS[n - 4])
        life = self.life(village(5, 1), green_tale("民间借贷纠纷"), "community_work")
        life.start(ago(25))
        life.route(ago(24, 20), Route.JUDICIAL, RouteBody.MEDIATION_COMMITTEE)
        life.session(ago(22), SessionOutcome.AGREED)
        life.agreement(ago(21, 23))
        life.sign(ago(21, 22))
        life.resolve(ago(21, 20))
        life.visits(holds=(False,))
        life.session(ago(2), SessionOutcome.ADJOURNED)
        life = self.life(community(4), green_tale("蔬菜货款拖欠纠纷"), "community_work")
        life.start(ago(300))
        life.route(ago(299, 20), Route.JUDICIAL, RouteBody.MEDIATION_COMMITTEE)
        life.session(ago(296), SessionOutcome.AGREED)
        life.resolve(ago(295, 22))
        life.visits(holds=(False,))
        life.session(life.later(48, 100), SessionOutcome.AGREED)
        life.resolve(life.later(2, 20))
        life.visits()

    def _in_progress(self) -> None:
        """Ordinary disputes across the county, some filed by the grid workers: just filed,
        routed, mediated, an agreement waiting for the other side's signature; and two
        resolved days ago whose return visits are not due yet."""
        ago, village, community = self.ago, self.village, self.community
        for place, title in (
            (village(0), "承包地田埂界址纠纷"),
            (community(0, 1), "犬只吠叫扰民纠纷"),
        ):
            life = self.life(place, green_tale(title), "community_work")
            life.start(ago(14))
            life.route(ago(13, 20), Route.GRASSROOTS, RouteBody.VILLAGE_COMMITTEE)
            life.session(ago(6), SessionOutcome.AGREED)
            life.resolve(ago(5, 22))
        workers = [p for p in self.ordered if p.workers and p is not self.home]
        # Some have dragged on for weeks, mediated every ten days or so (never long enough
        # without progress to turn yellow); the odd ones end with an agreement half signed.
        rows = (
            (workers[0], "装修噪声扰民纠纷", "cadre_grid", RouteBody.VILLAGE_COMMITTEE, 2),
            (workers[1], "房屋租赁押金纠纷", "cadre_grid", RouteBody.MEDIATION_COMMITTEE, 12),
            (village(1, 2), "宅基地界址纠纷", "community_work", RouteBody.HOUSING, 21),
            (village(2, 2), "企业施工扰民纠纷", "cadre_grid", RouteBody.OTHER_DEPARTMENT, 4),
            (village(3, 2), "兄弟分家析产纠纷", "cadre_grid", RouteBody.JUDICIAL_OFFICE, 33),
            (village(4, 2), "家禽毁坏菜地纠纷", "cadre_grid", "", 1),
            (village(5, 2), "装修工钱纠纷", "community_work", RouteBody.SHARED_COURT, 26),
            (community(1, 1), "夫妻家庭矛盾纠纷", "community_work", RouteBody.GRID_STATION, 3),
            (self.park, "离职工资结算纠纷", "cadre_grid", RouteBody.LABOUR, 16),
        )
        for n, (place, title, channel, kind, days) in enumerate(rows):
            life = self.life(place, green_tale(title), channel)
            life.start(ago(days, 3))
            if kind:
                route = next(r for r, kinds in ROUTE_BODIES.items() if kind in kinds)
                life.route(ago(days, 1), route, kind)
            sessions = list(range(days - 3, 1, -10))
            for index, day in enumerate(sessions):
                last = index == len(sessions) - 1
                agreed = last and n % 2 == 1
                life.session(
                    ago(day), SessionOutcome.AGREED if agreed else SessionOutcome.ADJOURNED
                )
                if agreed:
                    life.agreement(life.later(0.3, 1, working=False))
                    life.sign(life.later(0.1, 0.3, working=False), parties=1, mediator=False)
