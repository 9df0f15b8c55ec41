"""An in-process world for the deploy pipeline: moto's S3, SQS, DynamoDB and CloudFront on a virtual clock.

The clock is what the handler reads (`now`), what moto's SQS judges DelaySeconds and visibility
timeouts by and what moto's S3 stamps LastModified with, so a tick sent with a delay of 5 s is received
once the test has moved the clock 5 s, never after a real sleep. `Container` is one Lambda container
(its own caches) running the pipeline production builds (deploy.pipeline with flush.Planner over
batch.py's stages). `EventSource` does what Lambda's mapping does: receive a batch, invoke a container,
delete what did not fail; an invocation that raises (a crash) leaves its messages to come back after the
visibility timeout, as in Lambda.
`Crash` arms one crash at one call of one client: before it is made, or after it returned.
`make_world(cloudfront=...)` puts another CloudFront client (e.g. support.cloudfront_model's, which
enforces the quotas) in place of moto's; observers (`Client.observers`) see every call and its answer,
for the bench's request counts.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import boto3

from cf_invalidator.aws.in_progress import InProgressCache
from cf_invalidator.config import Config, Deploys, Distribution
from cf_invalidator.pipeline.collaborators import Collaborators
from cf_invalidator.pipeline.deploy import Clients, Pipeline, pipeline
from cf_invalidator.pipeline.flush import Planner
from support.deployment import create_distribution
from support.event_source import lambda_record
from support.path_oracle import is_covered, required_paths
from support.sqs_events import s3_body

BUCKET = "example-site"
TABLE = "site-invalidation-deploys"
VISIBILITY_S = 60
INVOCATION_S = 60


class CrashError(BaseException):
    """The container dies (a BaseException: nothing in the handler catches it)."""


@dataclass
class Clock:
    now: float

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Crash:
    """Raise CrashError at the `nth` call of `operation` (before it, or after it returned), once."""

    operation: str
    nth: int = 1
    after: bool = False
    calls: int = 0
    fired: bool = False


Observer = Callable[[str, Mapping[str, Any], Any], None]  # operation, its arguments, its answer or error


class Client:
    """A boto3 client that counts its calls, may crash at one, and can be watched (`on` before a call,
    `observers` after it, with its answer or the ClientError it raised)."""

    def __init__(self, client: Any, crash: Crash | None = None) -> None:
        self._client, self.crash = client, crash
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.on: dict[str, Callable[[], None]] = {}
        self.observers: list[Observer] = []

    @property
    def meta(self) -> Any:
        return self._client.meta

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**kwargs: Any) -> Any:
            crash = self.crash if self.crash is not None and self.crash.operation == name else None
            if crash is not None and not crash.fired:
                crash.calls += 1
            armed = crash is not None and not crash.fired and crash.calls == crash.nth
            if armed and crash is not None and not crash.after:
                crash.fired = True
                raise CrashError(f"before {name}")
            if name in self.on:
                self.on[name]()
            result = self._observed(name, method, kwargs)
            self.calls.append((name, kwargs))
            if armed and crash is not None:
                crash.fired = True
                raise CrashError(f"after {name}")
            return result

        return call

    def _observed(self, name: str, method: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        try:
            result = method(**kwargs)
        except Exception as error:
            for observer in self.observers:
                observer(name, kwargs, error)
            raise
        for observer in self.observers:
            observer(name, kwargs, result)
        return result


@dataclass
class World:
    clock: Clock
    s3: Any
    sqs: Client
    dynamodb: Client
    cloudfront: Client
    queue_url: str
    queue_arn: str
    dead_letter_url: str
    distribution: Distribution
    config: Config
    source: Any  # SQS as the test and the event source use it (no crash, not counted)
    table: Any  # DynamoDB as the test reads it
    invalidated_at: list[tuple[float, tuple[str, ...], str]] = field(default_factory=list)
    event_source: Counter[str] = field(default_factory=Counter)  # its SQS requests (ReceiveMessage...)

    def container(self, **options: Any) -> Container:
        return Container(self, **options)

    def write(self, keys: Iterable[str]) -> None:
        """Put each key into the bucket and its S3 event into the queue, written now."""
        for key in keys:
            self.s3.put_object(Bucket=BUCKET, Key=key, Body=b"<p>new</p>", ContentType="text/html")
            written = datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="milliseconds")
            self.source.send_message(QueueUrl=self.queue_url, MessageBody=s3_body(key, event_time=written))

    def uncovered(self, keys: Iterable[str]) -> set[str]:
        """The oracle: required viewer paths of `keys` no invalidation made covers."""
        paths = [p for _, made, _ in self.invalidated_at for p in made]
        return {p for key in keys for p in required_paths(key) if not is_covered(p, paths)}

    def covered_at(self, key: str, since: float | None = None) -> float | None:
        """When the first invalidation covering every required path of `key` was made (at or after
        `since`, the key's write: one made before refreshes only the old object)."""
        for at, made, _ in self.invalidated_at:
            if (since is None or at >= since) and all(is_covered(p, made) for p in required_paths(key)):
                return at
        return None

    def dead_letter_keys(self) -> list[str]:
        """The keys the dead-letter queue's S3 bodies name (read as S3 writes them, not by the code)."""
        keys: list[str] = []
        while messages := self.source.receive_message(
            QueueUrl=self.dead_letter_url, MaxNumberOfMessages=10
        ).get("Messages", []):
            for message in messages:
                body = json.loads(message["Body"])
                keys += [unquote_plus(r["s3"]["object"]["key"]) for r in body["Records"]]
                self.source.delete_message(
                    QueueUrl=self.dead_letter_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return keys

    def inbox_items(self) -> int:
        pk = {":pk": {"S": f"inbox#{self.distribution.id}"}}
        query = self.table.query(
            TableName=TABLE, KeyConditionExpression="pk = :pk", ExpressionAttributeValues=pk
        )
        return int(query["Count"])


class Container:
    """One Lambda container: its own in-progress cache; the world's clients (possibly crashing)."""

    def __init__(self, world: World, **options: Any) -> None:
        self.world = world
        self.deadline = world.clock() + INVOCATION_S
        cloudfront = world.cloudfront
        in_progress = InProgressCache(cloudfront, clock=world.clock)

        def planning() -> Collaborators:
            return Collaborators(s3=world.s3, in_progress=in_progress, sleep=world.clock.advance, **options)

        planner = Planner(world.config, cloudfront, self.remaining_ms, collaborators=planning)
        clients = Clients(world.sqs, world.dynamodb, world.sqs.meta.endpoint_url)
        self.pipeline: Pipeline = pipeline(
            world.config, clients, world.queue_arn, planner, clock=world.clock, lease_s=INVOCATION_S
        )

    def remaining_ms(self) -> int:
        return int((self.deadline - self.world.clock()) * 1000)

    def step(self, max_messages: int = 10) -> bool:
        """Receive one batch (ReceiveMessage, 10 at most a call, until `max_messages` or none is
        visible), invoke this container with it, delete what did not fail (DeleteMessageBatch, 10 a
        call); False when nothing was visible."""
        world = self.world
        messages = self._receive(max_messages)
        if not messages:
            return False
        self.deadline = world.clock() + INVOCATION_S
        event = {"Records": [lambda_record(m, world.queue_arn) for m in messages]}
        try:
            response = self.pipeline.handle(event)
        except CrashError:
            return True  # the messages come back after the visibility timeout
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        done = [m for m in messages if m["MessageId"] not in failed]
        for message in done:
            world.source.delete_message(QueueUrl=world.queue_url, ReceiptHandle=message["ReceiptHandle"])
        world.event_source["DeleteMessageBatch"] += -(-len(done) // 10)
        return True

    def _receive(self, max_messages: int) -> list[dict[str, Any]]:
        world, messages = self.world, list[dict[str, Any]]()
        while len(messages) < max_messages:
            received = world.source.receive_message(
                QueueUrl=world.queue_url,
                MaxNumberOfMessages=min(10, max_messages - len(messages)),
                AttributeNames=["All"],
            ).get("Messages", [])
            if not received:  # an empty poll: the pollers' standing cost, not the batch's
                break
            world.event_source["ReceiveMessage"] += 1
            messages += received
            if len(received) < 10:  # moto hands over every visible message: none is left
                break
        return messages

    def run(self, seconds: float, tick: float = 1.0) -> None:
        """Handle what is visible, then move the clock, for `seconds` of virtual time."""
        end = self.world.clock() + seconds
        while self.world.clock() < end:
            while self.step():
                pass
            self.world.clock.advance(tick)


def make_world(
    monkeypatch: Any,
    *,
    crash: tuple[str, Crash] | None = None,
    quiet: int = 5,
    max_wait: int = 120,
    cloudfront: Callable[[str, Clock], Any] | None = None,
) -> World:
    """The world inside an active mock_aws: bucket, distribution, queue and DLQ, table, virtual clock.
    `monkeypatch`: anything with pytest's `setattr(target, name, value)`; `cloudfront`: the CloudFront
    client the pipeline calls, made from the distribution's id and the clock (None: moto's)."""
    import moto.s3.models  # noqa: PLC0415
    import moto.sqs.models  # noqa: PLC0415

    clock = Clock(datetime.now(UTC).timestamp())
    monkeypatch.setattr(moto.sqs.models, "unix_time_millis", lambda *_: clock() * 1000)
    monkeypatch.setattr(moto.sqs.models, "unix_time", lambda *_: clock())
    # S3's LastModified on the same clock: change detection and the dedupe compare it with invalidations'
    monkeypatch.setattr(
        moto.s3.models, "utcnow", lambda: datetime.fromtimestamp(clock(), UTC).replace(tzinfo=None)
    )
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    raw_sqs = boto3.client("sqs")
    dead_letter_url = raw_sqs.create_queue(QueueName="site-invalidation-dlq")["QueueUrl"]
    dlq_arn = raw_sqs.get_queue_attributes(QueueUrl=dead_letter_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})
    attributes = {"VisibilityTimeout": str(VISIBILITY_S), "RedrivePolicy": redrive}
    queue_url = raw_sqs.create_queue(QueueName="site-invalidation", Attributes=attributes)["QueueUrl"]
    queue_arn = raw_sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    raw_dynamodb = boto3.client("dynamodb")
    create_inbox_table(raw_dynamodb, TABLE)
    raw_cloudfront = boto3.client("cloudfront")
    distribution = Distribution("www", create_distribution(raw_cloudfront, BUCKET))
    crashes = dict([crash]) if crash is not None else {}
    config = Config(
        distributions=(distribution,),
        max_paths=3000,
        deploys=Deploys(TABLE, dlq_arn, quiet_seconds=quiet, max_wait_seconds=max_wait),
    )
    world = World(
        clock=clock,
        s3=s3,
        sqs=Client(raw_sqs, crashes.get("sqs")),
        dynamodb=Client(raw_dynamodb, crashes.get("dynamodb")),
        cloudfront=Client(
            raw_cloudfront if cloudfront is None else cloudfront(distribution.id, clock),
            crashes.get("cloudfront"),
        ),
        queue_url=queue_url,
        queue_arn=queue_arn,
        dead_letter_url=dead_letter_url,
        distribution=distribution,
        config=config,
        source=raw_sqs,
        table=raw_dynamodb,
    )
    _record_invalidations(world)
    return world


def create_inbox_table(dynamodb: Any, name: str) -> None:
    """The deploy inbox's table as the module declares it: partition key pk, sort key sk, on demand."""
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
    )


def _record_invalidations(world: World) -> None:
    """Note each invalidation CloudFront made, with the virtual time and its CallerReference."""
    original = world.cloudfront._client.create_invalidation

    def recorded(**kwargs: Any) -> Any:
        response = original(**kwargs)
        batch = kwargs["InvalidationBatch"]
        world.invalidated_at.append((world.clock(), tuple(batch["Paths"]["Items"]), batch["CallerReference"]))
        return response

    world.cloudfront._client = _Replaced(world.cloudfront._client, create_invalidation=recorded)


class _Replaced:
    def __init__(self, client: Any, **methods: Callable[..., Any]) -> None:
        self._client, self._methods = client, methods

    @property
    def meta(self) -> Any:
        return self._client.meta

    def __getattr__(self, name: str) -> Any:
        return self._methods.get(name) or getattr(self._client, name)
