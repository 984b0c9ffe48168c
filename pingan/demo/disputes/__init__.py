"""Demo disputes (矛盾纠纷) for the demo county: two years of screening, routing, mediation,
tracked orders and return visits, ending in a board with open cases in every colour.

Everything goes through `pingan.disputes.services` with a planned `now=` for each step, so
timelines, the StatCell statistics, orders, visits and messages are exactly what the services
would have produced had the people done it on those days. Each dispute is a *life*: a list of
timed steps, cut at `now` (a dispute whose next step lies in the future is still open). The
steps of all lives run in one clock order, with the periodic sweeps (overdue orders, the "no
progress" rule) called at the simulated moments a running sweeper would have called them.

Two sets of lives: a fixed *showcase* that guarantees what the demo must show right now (a red
case and a due visit for officer1, an order that has escalated, overrides, reviews, pending
requests ...), and a seeded *history* whose size follows the incident history's density.

Side effects of history: the services push every step after commit and queue step messages.
Nobody watched these steps live, so the pushes and delivery tasks registered during generation
are dropped, and the queued messages are recorded as sent at their simulated moment (backend
"demo"), so neither the task worker nor the message sweeper sends hundreds of them on start.
"""
