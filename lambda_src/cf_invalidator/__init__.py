"""CloudFront invalidation for S3 changes: S3 events (through SQS) in, the fewest correct invalidations out.

The map, stage by stage (docs/deploy-flush.md). Three sub-packages, each with one rule:
- core: the rules, pure: no AWS call, no client, no boto3 (tests/python/test_package_layout.py);
- aws: the modules that call AWS, through clients handed in (only `handler` creates them, once per
  container); they import core, never pipeline;
- pipeline: the orchestration, running the stages in order over core's rules and aws' calls.
[pure]: no AWS call; [AWS]: calls AWS.

Entry (top level)
- handler: the Lambda entry point, the clients and each feature's collaborator [AWS]; config: the
  settings, read once from the environment [pure].
- pipeline.deploy: one invocation's two kinds of message: S3 events are accepted, flush ticks flush.

Accept: each SQS batch of S3 events
- core.events: SQS bodies -> the changes they report [pure].
- core.accept: changes -> the inbox chunks of each distribution that may serve them [pure].
- aws.inbox: the chunks and each distribution's state, in DynamoDB [AWS]; aws.timer: flush ticks as
  delayed messages on the module's queue, and the dead letters [AWS].

Flush: a tick, once the distribution's deploy is quiet
- pipeline.flush: the lease, the inbox read as one batch, what becomes of each chunk (deleted, kept,
  dead).
- pipeline.batch.process_batch: the planning stages over that batch, in this order:
  1. aws.distribution_config: the distributions checked, those with origin_path "auto" mapped [AWS];
  2. core.paths (core.routing for "auto"): each key's viewer paths on each distribution, once
     (BatchPaths) [pure];
  3. aws.tree.walk: the listing below the changed paths [AWS];
  4. aws.detect: created objects a viewer cannot tell from before are left out [AWS]; its rule:
     core.history [pure];
  5. aws.tree.trees: the objects each wildcard would evict needlessly (no call: it reads the walk);
  6. core.plan: one request per distribution, the cheapest cover (core.cover) or coalesced
     (core.coalesce) within the quotas in progress [pure]; aws.in_progress: what is in progress [AWS];
  7. aws.spend_guard: admits each request, or makes it `/*`, or holds it back [AWS];
     pipeline.operations: how the guard and the metrics hook into sending;
  8. pipeline.isolate and aws.invalidate: CreateInvalidation with retries (invalidate [AWS]), a
     rejected path found by bisection (isolate);
  9. pipeline.metrics: what the batch did, as EMF lines on stdout (no API call).
- pipeline.collaborators: what the stages work with; each always exists, a do-nothing one where a
  feature is off.
- core.deadline: how long the reads may go on [pure]; core.redelivery: a flush's retry delays and
  queue URLs [pure]; core.once: a failure logged once per container [pure].

Where each rule lives: the viewer paths of a key: core.paths (encoding, index documents, edge rewrites)
and core.routing ("auto"); whether a change can be seen: core.history and aws.detect.seen_by_viewers;
the cost of a cover: core.cover; fitting a budget and the quotas: core.coalesce; the CallerReference:
core.plan.caller_reference; when a deploy is quiet: aws.inbox.State.due; retries: aws.invalidate
(within an invocation), pipeline.flush.MAX_FLUSH_ATTEMPTS and core.redelivery.redelivery_delay (across
them); the daily ceiling: aws.spend_guard.
"""
