"""CloudFront invalidation for S3 changes: S3 events (through SQS) in, the fewest correct invalidations out.

The pure core: `config` (settings from the environment), `events` (SQS bodies -> changed keys),
`paths` (key -> CloudFront viewer paths), `coalesce` (paths -> a request within CloudFront's limits),
`plan` (a batch -> one request per distribution). The I/O: `invalidate` (CreateInvalidation with retries),
`deadline` (how long the CloudFront reads may go on) and `handler` (the Lambda entry point).

The pipeline: `deploy` accepts each SQS batch into a DynamoDB inbox (`accept`: changes -> chunks,
pure; `inbox`: the table) and plans a distribution's waiting changes once its bucket is quiet (`flush`,
over `batch`'s planning stages), its timers delayed messages on the module's own queue (`timer`).
docs/deploy-flush.md.
"""
