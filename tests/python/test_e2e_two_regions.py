"""The module applied twice with the same `name`, in two regions of one account, on moto.

IAM role names are global to an account: the role is `<name>-<region>`, so the second region's apply
does not fail with EntityAlreadyExists. Both copies carry a permissions boundary and a path, and alarm
and OK actions, as an estate would set them. One apply (two provider configurations, one per region)
serves every test here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.deployment import apply, create_distribution
from support.moto_server import ACCOUNT_ID, REGION, MotoServer
from support.terraform import Terraform, TerraformError, provider_settings, stage_root_module

pytestmark = pytest.mark.e2e

NAME = "two-region-site"
SECOND_REGION = "us-west-2"
ROLE_PATH = "/estate/cdn/"


def root_module(endpoint_url: str) -> str:
    """Two copies of the module, one per region, each fronting a bucket of its own region."""
    return f"""
terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws", version = ">= 5.76.0, < 7.0" }}
  }}
}}

provider "aws" {{}}

provider "aws" {{
  alias = "second"
{provider_settings(endpoint_url, SECOND_REGION)}}}

variable "buckets" {{ type = map(string) }}
variable "distribution_id" {{ type = string }}

resource "aws_iam_policy" "boundary" {{
  name = "estate-workload-boundary"
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{
      Effect   = "Allow"
      Action   = ["logs:*", "sqs:*", "cloudfront:CreateInvalidation"]
      Resource = "*"
    }}]
  }})
}}

module "first" {{
  source                    = "../.."
  name                      = "{NAME}"
  bucket_name               = var.buckets["{REGION}"]
  distributions             = {{ site = {{ id = var.distribution_id }} }}
  role_permissions_boundary = aws_iam_policy.boundary.arn
  role_path                 = "{ROLE_PATH}"
  alarm_actions             = ["arn:aws:sns:{REGION}:{ACCOUNT_ID}:alerts"]
  ok_actions                = ["arn:aws:sns:{REGION}:{ACCOUNT_ID}:recoveries"]
}}

module "second" {{
  source                    = "../.."
  providers                 = {{ aws = aws.second }}
  name                      = "{NAME}"
  bucket_name               = var.buckets["{SECOND_REGION}"]
  distributions             = {{ site = {{ id = var.distribution_id }} }}
  role_permissions_boundary = aws_iam_policy.boundary.arn
  role_path                 = "{ROLE_PATH}"
  alarm_actions             = ["arn:aws:sns:{SECOND_REGION}:{ACCOUNT_ID}:alerts"]
  ok_actions                = ["arn:aws:sns:{SECOND_REGION}:{ACCOUNT_ID}:recoveries"]
}}

output "boundary_arn" {{ value = aws_iam_policy.boundary.arn }}
output "{REGION}" {{ value = module.first }}
output "{SECOND_REGION}" {{ value = module.second }}
"""


@dataclass(frozen=True)
class TwoRegions:
    server: MotoServer
    outputs: dict[str, Any]  # region => the module's outputs, and "boundary_arn"
    plan_exit_code: int
    plan_text: str


def create_bucket_in(server: MotoServer, bucket: str, region: str) -> None:
    s3 = server.client("s3", region)
    if region == "us-east-1":  # S3 takes no location constraint for its default region
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})


@pytest.fixture(scope="module")
def two_regions(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> TwoRegions:
    buckets = {region: f"two-region-site-{region}" for region in (REGION, SECOND_REGION)}
    for region, bucket in buckets.items():
        create_bucket_in(moto_server, bucket, region)
    distribution_id = create_distribution(moto_server.client("cloudfront"), buckets[REGION])
    root: Path = tmp_path_factory.mktemp("two-regions")
    workdir = stage_root_module(root, "two-regions", root_module(moto_server.endpoint_url))
    outputs, plan_exit_code, plan_text = apply(
        Terraform(workdir, moto_server.endpoint_url),
        {"buckets": buckets, "distribution_id": distribution_id},
    )
    return TwoRegions(moto_server, outputs, plan_exit_code, plan_text)


REGIONS = [REGION, SECOND_REGION]


def test_same_name_applies_in_two_regions_of_one_account(two_regions: TwoRegions) -> None:
    assert two_regions.plan_exit_code == 0, two_regions.plan_text
    for region in REGIONS:
        outputs = two_regions.outputs[region]
        assert outputs["function_name"] == NAME
        assert outputs["role_name"] == f"{NAME}-{region}"
        assert f":sqs:{region}:" in outputs["queue_arn"]
        function = two_regions.server.client("lambda", region).get_function(FunctionName=NAME)
        assert function["Configuration"]["Role"] == outputs["role_arn"]


@pytest.mark.parametrize("region", REGIONS)
def test_deployed_role_carries_the_boundary_and_the_path(two_regions: TwoRegions, region: str) -> None:
    role = two_regions.server.client("iam").get_role(RoleName=f"{NAME}-{region}")["Role"]
    assert role["Path"] == ROLE_PATH
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role{ROLE_PATH}{NAME}-{region}"
    assert role["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": two_regions.outputs["boundary_arn"],
    }


@pytest.mark.parametrize("region", REGIONS)
def test_every_alarm_exists_with_the_actions_given(two_regions: TwoRegions, region: str) -> None:
    outputs = two_regions.outputs[region]
    alarms = two_regions.server.client("cloudwatch", region).describe_alarms(AlarmNamePrefix=f"{NAME}-")
    found = {alarm["AlarmName"]: alarm for alarm in alarms["MetricAlarms"]}
    assert set(found) == {f"{NAME}-dead-letters", f"{NAME}-queue-age", f"{NAME}-errors"}
    assert outputs["alarm_arns"] == {name: alarm["AlarmArn"] for name, alarm in found.items()}
    for alarm in found.values():
        assert alarm["AlarmActions"] == [f"arn:aws:sns:{region}:{ACCOUNT_ID}:alerts"]
        assert alarm["OKActions"] == [f"arn:aws:sns:{region}:{ACCOUNT_ID}:recoveries"]
    assert found[f"{NAME}-queue-age"]["Threshold"] == 6 * 3600


@pytest.mark.parametrize("region", REGIONS)
def test_outputs_name_what_was_deployed(two_regions: TwoRegions, region: str) -> None:
    outputs = two_regions.outputs[region]
    assert outputs["queue_name"] == NAME and outputs["dead_letter_queue_name"] == f"{NAME}-dlq"
    assert outputs["event_rule_arn"] is None
    logs = two_regions.server.client("logs", region)
    [group] = logs.describe_log_groups(logGroupNamePrefix=outputs["log_group_name"])["logGroups"]
    assert outputs["log_group_arn"] in (group["arn"], group["arn"].removesuffix(":*"))
    mapping = two_regions.server.client("lambda", region).get_event_source_mapping(
        UUID=outputs["event_source_mapping_uuid"]
    )
    assert mapping["EventSourceArn"] == outputs["queue_arn"]


def test_plan_fails_naming_both_regions_when_the_bucket_is_in_another(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    # GIVEN a bucket in us-east-1 and the module given a provider in us-west-2
    bucket = "bucket-in-the-wrong-region"
    create_bucket_in(moto_server, bucket, REGION)
    main_tf = f"""
provider "aws" {{}}

provider "aws" {{
  alias = "second"
{provider_settings(moto_server.endpoint_url, SECOND_REGION)}}}

module "invalidation" {{
  source        = "../.."
  providers     = {{ aws = aws.second }}
  name          = "wrong-region-site"
  bucket_name   = "{bucket}"
  distributions = {{ site = {{ id = "E2QWRUHAPOMQZL" }} }}
}}
"""
    terraform = Terraform(stage_root_module(tmp_path, "wrong-region", main_tf), moto_server.endpoint_url)
    terraform.init()
    # WHEN it is planned THEN the plan fails, saying where the bucket is and where the queue would be
    with pytest.raises(TerraformError) as failure:
        terraform.plan_exit_code()
    message = " ".join(failure.value.stderr.split())
    assert f"Bucket {bucket} is in {REGION} but this module's provider is in {SECOND_REGION}" in message
