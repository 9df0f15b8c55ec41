"""CloudFront invalidation for S3 changes: S3 events (through SQS) in, the fewest correct invalidations out.

The map, stage by stage (docs/deploy-flush.md). [pure]: no AWS call; [AWS]: calls AWS, through clients
handed in (only `handler` creates them, once per container).

Entry
- handler: the Lambda entry point, the clients and each feature's collaborator [AWS]; config: the
  settings, read once from the environment [pure].
- deploy: one invocation's two kinds of message: S3 events are accepted, flush ticks flush [AWS].

Accept: each SQS batch of S3 events
- events: SQS bodies -> the changes they report [pure].
- accept: changes -> the inbox chunks of each distribution that may serve them [pure].
- inbox: the chunks and each distribution's state, in DynamoDB [AWS]; timer: flush ticks as delayed
  messages on the module's queue, and the dead letters [AWS].

Flush: a tick, once the distribution's deploy is quiet
- flush: the lease, the inbox read as one batch, what becomes of each chunk (deleted, kept, dead) [AWS].
- batch.process_batch: the planning stages over that batch, in this order:
  1. distribution_config: the distributions checked, those with origin_path "auto" mapped [AWS];
  2. paths (routing for "auto"): each key's viewer paths on each distribution, once (BatchPaths) [pure];
  3. tree.walk: the listing below the changed paths [AWS];
  4. detect: created objects a viewer cannot tell from before are left out [AWS]; its rule: history [pure];
  5. tree.trees: the objects each wildcard would evict needlessly [pure];
  6. plan: one request per distribution, the cheapest cover (cover) or coalesced (coalesce) within the
     quotas in progress [pure]; in_progress: what is in progress [AWS];
  7. spend_guard: admits each request, or makes it `/*`, or holds it back [AWS]; operations: how the
     guard and the metrics hook into sending [pure];
  8. isolate and invalidate: CreateInvalidation with retries, a rejected path found by bisection [AWS];
  9. metrics: what the batch did, as EMF lines on stdout (no API call).
- collaborators: what the stages work with; each always exists, a do-nothing one where a feature is off.
- deadline: how long the reads may go on [pure]; redelivery: a flush's retry delays and queue URLs
  [pure]; once: a failure logged once per container.

Where each rule lives: the viewer paths of a key: paths (encoding, index documents, edge rewrites) and
routing ("auto"); whether a change can be seen: history and detect.seen_by_viewers; the cost of a cover:
cover; fitting a budget and the quotas: coalesce; the CallerReference: plan.caller_reference; when a
deploy is quiet: inbox.State.due; retries: invalidate (within an invocation), flush.MAX_FLUSH_ATTEMPTS
and redelivery.redelivery_delay (across them); the daily ceiling: spend_guard.
"""
