"""The function's role, proven sufficient and no more, from the AWS calls the deployed handler really made.

moto does not enforce IAM for the handler's calls, so a missing permission passes every other test and
fails on AWS at the first deploy. Here every call the deployed zip made in this session (recorded by the
emulated runtime: support/lambda_runtime.py) is mapped to its IAM action and resource ARN by a table
written from the Service Authorization Reference (support/iam_actions.py) and judged by an IAM evaluator
written from AWS's evaluation logic (support/iam_policy.py), against the role's policies as applied in
moto (and its permissions boundary, when it has one). The calls the Lambda service makes with the role
(the queue's event source mapping, the runtime's logs) are judged too.

It covers every notification mode ("s3": basic, "eventbridge": multi-distribution, "none") with change
detection on, and change detection off (the mode "none" module planned with skip_unchanged_objects =
false: the function run with the planned environment, judged by the planned policy). To reach every call
whatever ran before, it drives each deployment itself: an identical re-upload (ListObjectVersions,
HeadObject with a version id), a new object, and, on basic, a distribution whose quotas are full of
invalidations held in progress (GetInvalidation, then the flush waits for room). The deploy inbox's calls
(DynamoDB, SendMessage of flush ticks) are made by every delivery.

It fails on a denied call, on a call the table cannot map, and on a granted action that no call used.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from support.demo_site import wait_for_next_second
from support.deployment import Deployment
from support.iam_actions import UnmappedCallError, Where, request_for, service_requests
from support.iam_policy import Decision, Request, evaluate, granted, granting
from support.moto_server import ACCOUNT_ID, REGION, MotoServer, held_reference
from support.terraform import VARIABLES_FILE

pytestmark = pytest.mark.e2e

WHERE = Where("aws", REGION, ACCOUNT_ID)
HOLD_SECONDS = 25.0  # how long the held invalidations stay in progress


@dataclass
class Judged:
    """One role and the calls made with it."""

    name: str
    identity: list[dict[str, Any]]
    boundary: dict[str, Any] | None
    calls: list[dict[str, Any]]
    service: list[Request]

    def problems(self) -> list[str]:
        """Each call that is unmapped or not allowed, once per distinct (operation, action, resource)."""
        found: dict[str, None] = {}
        for call in self.calls:
            try:
                request = request_for(call, WHERE)
            except UnmappedCallError as error:
                found[f"unmapped call {error.args[0]}: add it to support/iam_actions.py"] = None
                continue
            decision = evaluate(self.identity, request, self.boundary)
            if decision is not Decision.ALLOWED:
                found[f"{call['service']} {call['operation']} needs {request.action} on {request.resource}: "
                      f"{decision.value}"] = None  # fmt: skip
        for request in self.service:
            decision = evaluate(self.identity, request, self.boundary)
            if decision is not Decision.ALLOWED:
                found[
                    f"the Lambda service needs {request.action} on {request.resource}: {decision.value}"
                ] = None
        return list(found)

    def exercised(self) -> set[tuple[str, str]]:
        """(Sid, action) of every grant some allowed call used."""
        used: set[tuple[str, str]] = set()
        requests = [*self.service]
        for call in self.calls:
            try:
                requests.append(request_for(call, WHERE))
            except UnmappedCallError:
                continue
        for request in requests:
            if evaluate(self.identity, request, self.boundary) is Decision.ALLOWED:
                used |= granting(self.identity, request)
        return used


def _document(raw: Any) -> dict[str, Any]:
    """A policy document as IAM returns it: a JSON object, or its URL-encoded text."""
    document: dict[str, Any] = json.loads(unquote(raw)) if isinstance(raw, str) else raw
    return document


def applied_role(
    server: MotoServer, function_name: str
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The identity policies (inline and attached) and the boundary of the function's role, from IAM."""
    role_arn = server.client("lambda").get_function(FunctionName=function_name)["Configuration"]["Role"]
    iam = server.client("iam")
    role = role_arn.rsplit("/", 1)[1]
    identity = [
        _document(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    ]
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        identity.append(_managed(iam, attached["PolicyArn"]))
    boundary_arn = (
        iam.get_role(RoleName=role)["Role"].get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
    )
    return identity, None if boundary_arn is None else _managed(iam, boundary_arn)


def _managed(iam: Any, arn: str) -> dict[str, Any]:
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return _document(iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"])


def service_of(deployment: Deployment) -> list[Request]:
    queue_arn = deployment.outputs["queue_arn"]
    return service_requests(queue_arn, f"/aws/lambda/{deployment.outputs['function_name']}", WHERE)


def reupload(deployment: Deployment, prefix: str) -> None:
    """A key written, then written again with the same bytes in a later second, and a new key."""
    s3 = deployment.server.client("s3")
    s3.put_object(Bucket=deployment.bucket, Key=f"{prefix}/same.html", Body=b"<p>same</p>")
    deployment.events.drain()
    wait_for_next_second()
    s3.put_object(Bucket=deployment.bucket, Key=f"{prefix}/same.html", Body=b"<p>same</p>")
    s3.put_object(Bucket=deployment.bucket, Key=f"{prefix}/new.html", Body=b"<p>new</p>")
    assert all(not o.failed_ids for o in deployment.events.drain())


def wire_bucket(deployment: Deployment) -> None:
    """Mode "none": the bucket's events to the module's queue, as its user would wire them."""
    wiring = {
        "QueueArn": deployment.outputs["queue_arn"],
        "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
    }
    deployment.server.client("s3").put_bucket_notification_configuration(
        Bucket=deployment.bucket, NotificationConfiguration={"QueueConfigurations": [wiring]}
    )


def fill_the_quotas(deployment: Deployment) -> None:
    """A change that arrives while 3,000 file paths and 15 wildcards are in progress: its flush reads
    them (GetInvalidation), waits for room while its invocation has time, and creates its invalidation
    once they complete."""
    cloudfront = deployment.server.client("cloudfront")
    distribution_id = deployment.distributions["site"]
    until = time.time() + HOLD_SECONDS
    batches = [[f"/held/{i}.html" for i in range(3000)], *[[f"/held{w}/*"] for w in range(15)]]
    for number, paths in enumerate(batches):
        batch = {
            "Paths": {"Quantity": len(paths), "Items": paths},
            "CallerReference": held_reference(until, str(number)),
        }
        cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch=batch)
    delivery = deployment.deliver(
        lambda: deployment.server.client("s3").put_object(
            Bucket=deployment.bucket, Key="iam/quota.html", Body=b"q"
        )
    )
    assert any(r.get("decision") == "invalidation_retrying" for r in delivery.records), delivery.records
    delivery.check(required={"site": {"/iam/quota.html"}})


def planned_without_change_detection(deployment: Deployment) -> tuple[dict[str, Any], dict[str, str]]:
    """The role policy and the function environment planned with skip_unchanged_objects = false."""
    terraform = deployment.terraform
    variables = json.loads((terraform.workdir / VARIABLES_FILE).read_text(encoding="utf-8"))
    terraform.set_variables({**variables, "skip_unchanged_objects": False})
    try:
        plan = terraform.saved_plan()
    finally:
        terraform.set_variables(variables)
    resources = {r["address"]: r["values"] for r in _planned_resources(plan["planned_values"]["root_module"])}
    policy = json.loads(resources["module.invalidation.aws_iam_role_policy.this"]["policy"])
    environment = resources["module.invalidation.aws_lambda_function.this"]["environment"][0]["variables"]
    return policy, environment


def _planned_resources(module: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        *module.get("resources", []),
        *[r for m in module.get("child_modules", []) for r in _planned_resources(m)],
    ]


def without_change_detection(deployment: Deployment, workdir: Path) -> Judged:
    policy, environment = planned_without_change_detection(deployment)
    assert environment["SKIP_UNCHANGED_OBJECTS"] == "false"
    function = dataclasses.replace(deployment.function, environment=environment, call_log_dir=workdir)
    events = dataclasses.replace(deployment.events, handler=function, outcomes=[])
    wire_bucket(deployment)
    deployment.server.client("s3").put_object(Bucket=deployment.bucket, Key="iam/off.html", Body=b"off")
    assert all(not o.failed_ids for o in events.drain())
    return Judged("none, change detection off", [policy], None, function.aws_calls(), service_of(deployment))


@pytest.fixture(scope="module")
def judged(deployments: dict[str, Deployment], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Judged]:
    """Each role with every call the session made with it, after this module's own exercise."""
    basic, multi, none = deployments["basic"], deployments["multi-distribution"], deployments["none"]
    reupload(basic, "iam")
    fill_the_quotas(basic)
    reupload(multi, "iam")
    wire_bucket(none)
    none.server.client("s3").put_object(Bucket=none.bucket, Key="iam/on.html", Body=b"on")
    assert all(not o.failed_ids for o in none.events.drain())
    result = {}
    for name, deployment in deployments.items():
        identity, boundary = applied_role(deployment.server, deployment.outputs["function_name"])
        calls = deployment.function.aws_calls()
        result[name] = Judged(name, identity, boundary, calls, service_of(deployment))
    result["none-detection-off"] = without_change_detection(none, tmp_path_factory.mktemp("detection-off"))
    return result


@pytest.mark.parametrize("name", ["basic", "multi-distribution", "none", "none-detection-off"])
def test_every_call_the_handler_made_is_allowed_by_its_role(judged: dict[str, Judged], name: str) -> None:
    role = judged[name]
    assert role.calls, f"{name}: no AWS call recorded"
    assert role.problems() == [], f"{name}: the role does not allow what the handler does"


def test_every_granted_action_was_used_by_some_call(judged: dict[str, Judged]) -> None:
    grants = {grant for role in judged.values() for grant in granted(role.identity)}
    used = {grant for role in judged.values() for grant in role.exercised()}
    assert sorted(grants - used) == [], "granted, but no call of any deployment used it: remove it or test it"


def test_the_calls_span_change_detection_on_and_off(judged: dict[str, Judged]) -> None:
    def operations(name: str) -> set[str]:
        return {f"{c['service']}:{c['operation']}" for c in judged[name].calls}

    detection = {"s3:ListObjectVersions", "s3:HeadObject"}
    assert detection <= operations("basic") and detection <= operations("multi-distribution")
    assert not operations("none-detection-off") & {"s3:ListObjectVersions", "s3:HeadObject"}
    inbox = {"sqs:SendMessage", "dynamodb:BatchWriteItem", "dynamodb:Query", "dynamodb:UpdateItem"}
    assert {"cloudfront:GetInvalidation", *inbox} <= operations("basic")
    assert not any(op.startswith("sqs:ChangeMessageVisibility") for op in operations("basic"))
    # without detection: no version is read, but the planner lists the tree with ListObjectsV2 (tree.py)
    sids = {s.get("Sid") for s in judged["none-detection-off"].identity[0]["Statement"]}
    assert not sids & {"ListSiteBucketVersions", "ReadSiteObjectVersions"}
    assert "ListSiteBucket" in sids
    assert "s3:ListObjectsV2" in operations("none-detection-off")


def test_each_used_statement_is_the_only_grant_of_some_call(judged: dict[str, Judged]) -> None:
    """No statement is redundant: without any one that calls used, some recorded call is denied."""
    for role in judged.values():
        for policy_index, policy in enumerate(role.identity):
            for statement in policy["Statement"]:
                rest = [s for s in policy["Statement"] if s is not statement]
                others = [p for i, p in enumerate(role.identity) if i != policy_index]
                reduced = dataclasses.replace(role, identity=[*others, {**policy, "Statement": rest}])
                if statement.get("Sid") in {sid for sid, _ in role.exercised()}:
                    assert reduced.problems(), f"{role.name}: nothing needs {statement.get('Sid')}"
