"""notification_mode = "none" applied on moto: no bucket wiring, and outputs enough to wire it by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.deployment import Deployment, InvalidationWatch, create_bucket, create_distribution, deploy
from support.moto_server import MotoServer
from support.terraform import stage_root_module

pytestmark = pytest.mark.e2e

BUCKET = "site-wired-by-hand"
ROOT_MODULE = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

variable "bucket_name" { type = string }
variable "distribution_id" { type = string }

module "invalidation" {
  source            = "../.."
  name              = "site-none"
  bucket_name       = var.bucket_name
  distributions     = { site = { id = var.distribution_id } }
  notification_mode = "none"
}

output "function_name" { value = module.invalidation.function_name }
output "queue_arn" { value = module.invalidation.queue_arn }
output "queue_url" { value = module.invalidation.queue_url }
output "dead_letter_queue_url" { value = module.invalidation.dead_letter_queue_url }
"""


@pytest.fixture(scope="module")
def deployment(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    moto_server.reset()
    create_bucket(moto_server, BUCKET)
    distribution_id = create_distribution(moto_server, BUCKET)
    root: Path = tmp_path_factory.mktemp("mode-none")
    workdir = stage_root_module(root / "stage", "mode-none", ROOT_MODULE)
    return deploy(
        moto_server, workdir, {"bucket_name": BUCKET, "distribution_id": distribution_id}, root / "runtime"
    )


def test_mode_none_plan_after_apply_shows_no_changes(deployment: Deployment) -> None:
    assert deployment.plan_exit_code == 0, deployment.plan_text


def test_mode_none_leaves_bucket_notifications_and_eventbridge_untouched(deployment: Deployment) -> None:
    configuration = deployment.server.client("s3").get_bucket_notification_configuration(Bucket=BUCKET)
    assert not configuration.get("QueueConfigurations")
    assert "EventBridgeConfiguration" not in configuration
    assert deployment.server.client("events").list_rules()["Rules"] == []


def test_mode_none_outputs_the_queue_that_receives_hand_wired_bucket_events(deployment: Deployment) -> None:
    # GIVEN the bucket wired by hand to the queue the module outputs
    sqs = deployment.server.client("sqs")
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=deployment.outputs["queue_url"], AttributeNames=["QueueArn"]
    )
    assert deployment.outputs["queue_arn"] == queue_arn["Attributes"]["QueueArn"]
    s3 = deployment.server.client("s3")
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": deployment.outputs["queue_arn"],
                    "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                }
            ]
        },
    )
    distribution_id = json.loads(deployment.function.environment["DISTRIBUTIONS"])["site"]["id"]
    watch = InvalidationWatch(deployment.server, (distribution_id,))
    # WHEN an object changes and the queue is delivered to the deployed function
    s3.put_object(Bucket=BUCKET, Key="docs/guide.html", Body=b"<p>guide</p>")
    outcomes = deployment.events.drain()
    # THEN its path is invalidated, nothing failed, and the queues are empty
    assert [o.failed_ids for o in outcomes] == [set()] * len(outcomes)
    assert watch.new_paths() == {distribution_id: {"/docs/guide.html"}}
