"""The pure core: the rules of what to invalidate, with no AWS call and no AWS client.

Events to changes (events), a key's viewer paths on each distribution (paths, routing), the inbox
chunks (accept), whether a change can be seen (history), the cheapest cover and coalescing within the
quotas (cover, coalesce, plan), the read deadline (deadline), a flush's retry delays (redelivery) and
a failure logged once (once). The rule: a module here imports only the standard library, this
sub-package and cf_invalidator.config, never `aws`, `pipeline`, `handler`, boto3 or botocore
(tests/python/test_package_layout.py checks it), so every rule is tested without AWS or moto.
"""
