"""The modules that talk to AWS: each calls boto3 clients it is handed (only `handler` creates them).

S3 HEAD and listings for change detection and the tree below the changed paths (detect, tree),
GetDistributionConfig (distribution_config), what is in progress and CreateInvalidation with retries
(in_progress, invalidate), the daily spend ceiling (spend_guard, DynamoDB), the inbox and each
distribution's state (inbox, DynamoDB) and flush ticks and dead letters (timer, SQS). The rule: a module
here may import `core` and cf_invalidator.config, never `pipeline` or `handler`; each one's decisions
are in `core`, so what stays here is the calls, their pages, retries and errors.
"""
