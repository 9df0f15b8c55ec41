"""The orchestration: the stages of an invocation, run in order over `core`'s rules and `aws`' calls.

An invocation's two kinds of message (deploy), a flush of a distribution's inbox (flush), the planning
stages over one batch (batch.process_batch), what those stages work with (collaborators), how the
spend guard and the metrics hook into sending (operations), sending with a rejected path found by
bisection (isolate) and what the batch did as EMF lines on stdout (metrics). The rule: a module here
may import `core` and `aws` (and cf_invalidator.config), never `handler`; it calls AWS only through
the clients and the `aws` modules it is handed.
"""
