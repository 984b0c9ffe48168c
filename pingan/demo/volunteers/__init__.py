"""Demo volunteers (义警), points and the rewards shops for the demo county: eleven teams of
about five hundred volunteers, a year of tasks, a shop in every town, and ledgers that add up.

The recent weeks and everything that touches points go through the services
(`pingan.volunteers.services`, `pingan.points.services`) on a simulated clock: teams are
founded, residents fill in a profile and join by the invite link (the leader approves where
the team asks for it), officers post tasks, volunteers sign up (a rush fills the slots in
minutes and leaves a waiting list; a cancellation moves the first in line up), check in by
position or by the on-site QR code, check out, write back, and the officer confirms or, now
and then, does not. Tips from the incident history and help in mediations earn residents
points; residents redeem them at the shops, and the clerks verify.

Written, not played: the teams' first members (who joined before the year began) and the
tasks posted before the last SERVICE_WINDOW. Call by call, a year of sign-ups, check-ins and
reviews takes minutes (each call is ten-odd queries); those rows are written as the services
would have left them, by the same rules (first come first served, promotion of the first in
line, check-in within the radius, hours clipped to the window), and their points are still
credited one entry at a time through `ledger.post`, at the moment of the review, with the
amounts, reasons and dedupe keys `confirm_work` uses. So every balance is the sum of entries
written by the ledger, never negative at any moment, and stock and slots are what the locked
paths produced.

The steps of all the lives run in one clock order (a heap, since a redemption plans its own
verification), each with `pingan.core.clock.now` moved to its moment, so the services date
what they write (messages, items) as they would have had people done it on those days.

Determinism: the plan depends on the seed and `now`; decisions taken while running draw from
generators seeded by the seed and names (never row ids), and the state they read (balances,
accepted sign-ups) is itself the product of the same ordered steps. Only the random tokens
(invite, QR and redeem codes) differ between runs.

Cost: the task history's size follows the incident history's density (capped at the
default, floored at MIN_SCALE); the teams, the shops and the showcase are the same at any
density.
"""
