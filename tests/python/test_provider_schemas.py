"""The module admits AWS provider 5.x and 6.x: every attribute its .tf files use exists, undeprecated, in both

5.x is the provider this machine installs (the local mirror's, 5.100.0), read with `terraform providers
schema -json`. 6.x cannot run here: its schema comes from PyPI's CDKTF bindings generated from provider
6.25.0 (downloaded once into build/), and its deprecations from the 6.0 upgrade guide (SIX_RETIRED).
"""

from __future__ import annotations

import re

import pytest

from support.provider_schema import (
    ProviderSchemas,
    Use,
    cdktf_schemas,
    cdktf_wheel,
    installed_provider_schemas,
    problems,
    uses_in_files,
    uses_in_hcl,
)
from support.terraform import REPO_ROOT

TF_FILES = sorted(REPO_ROOT.glob("*.tf")) + sorted(REPO_ROOT.glob("examples/*/*.tf"))
# From hashicorp/terraform-provider-aws website/docs/guides/version-6-upgrade.html.markdown ("Terraform AWS
# Provider Version 6 Upgrade Guide"), its entries for the types and the provider arguments this module and
# its examples can use; the guide lists nothing for the module's other types (SQS, Lambda, IAM, CloudWatch,
# EventBridge, DynamoDB, S3 notifications).
SIX_RETIRED = {
    ("data", "aws_region", "name"): "is deprecated in 6.0 (use region, which 5.x lacks)",
    ("data", "aws_s3_bucket", "region"): (
        "means in 6.0 the region the data source queries (the bucket's own is bucket_region, which 5.x lacks)"
    ),
    ("provider", "aws", "s3_us_east_1_regional_endpoint"): "is deprecated in 6.0 (removed in 7.0)",
}
# Types the snippets below use besides the module's.
SNIPPET_TYPES = {("resource", "aws_eip"), ("resource", "aws_simpledb_domain")}


@pytest.fixture(scope="module")
def module_uses() -> set[Use]:
    return uses_in_files(TF_FILES)


@pytest.fixture(scope="module")
def provider_5(tmp_path_factory: pytest.TempPathFactory) -> ProviderSchemas:
    return installed_provider_schemas(tmp_path_factory.mktemp("provider-5"))


@pytest.fixture(scope="module")
def provider_6(module_uses: set[Use]) -> ProviderSchemas:
    return cdktf_schemas(cdktf_wheel(), {(use.kind, use.type) for use in module_uses} | SNIPPET_TYPES)


def test_the_schemas_are_of_provider_5_and_6(
    provider_5: ProviderSchemas, provider_6: ProviderSchemas
) -> None:
    assert provider_5.version.startswith("5."), provider_5.version
    assert provider_6.version.startswith("6."), provider_6.version


def test_every_declared_type_and_the_examples_provider_are_collected(module_uses: set[Use]) -> None:
    declared = {
        (kind, type_)
        for path in TF_FILES
        for kind, type_ in re.findall(r'^(resource|data) "(aws_\w+)"', path.read_text(), re.MULTILINE)
    }
    assert declared, "the module declares no resource"
    assert declared | {("provider", "aws")} == {(use.kind, use.type) for use in module_uses}


def test_every_attribute_the_module_uses_exists_undeprecated_in_provider_5(
    module_uses: set[Use], provider_5: ProviderSchemas
) -> None:
    assert problems(module_uses, provider_5) == []


def test_every_attribute_the_module_uses_exists_undeprecated_in_provider_6(
    module_uses: set[Use], provider_6: ProviderSchemas
) -> None:
    assert problems(module_uses, provider_6, SIX_RETIRED) == []


def test_uses_are_the_arguments_blocks_and_reads_of_each_provider_type() -> None:
    snippet = """
resource "aws_lambda_function" "this" {
  count         = 1
  function_name = "f"
  logging_config {
    log_format = "JSON"
  }
  dynamic "vpc_config" {
    for_each = []
    content {
      subnet_ids = vpc_config.value
    }
  }
  lifecycle {
    ignore_changes = [tags]
  }
}

locals {
  group  = aws_lambda_function.this[0].logging_config[0].log_group
  name   = one(data.aws_region.current[*].id)
  arns   = [for f in aws_lambda_function.this : f.arn]
  labels = { for k, v in var.things : k => v.name }
}
"""

    def use(kind: str, type_: str, *path: str) -> Use:
        return Use(kind, type_, path, "snippet.tf")

    assert uses_in_hcl(snippet, "snippet.tf") == {
        use("resource", "aws_lambda_function", "function_name"),
        use("resource", "aws_lambda_function", "logging_config"),
        use("resource", "aws_lambda_function", "logging_config", "log_format"),
        use("resource", "aws_lambda_function", "vpc_config"),
        use("resource", "aws_lambda_function", "vpc_config", "subnet_ids"),
        use("resource", "aws_lambda_function", "logging_config", "log_group"),
        use("resource", "aws_lambda_function", "arn"),
        use("data", "aws_region", "id"),
    }


def test_reading_the_bucket_region_of_provider_6_fails_on_provider_5(
    provider_5: ProviderSchemas, provider_6: ProviderSchemas
) -> None:
    uses = uses_in_hcl("locals {\n  r = one(data.aws_s3_bucket.this[*].bucket_region)\n}\n", "snippet.tf")

    assert problems(uses, provider_5) == [
        f"snippet.tf: data aws_s3_bucket bucket_region does not exist ({provider_5.version})"
    ]
    assert problems(uses, provider_6, SIX_RETIRED) == []


def test_the_reads_the_module_made_before_6_fail_on_provider_6(
    provider_5: ProviderSchemas, provider_6: ProviderSchemas
) -> None:
    six = provider_6.version
    text = "locals {\n  a = data.aws_region.current.name\n  b = data.aws_s3_bucket.this[0].region\n}\n"
    uses = uses_in_hcl(text, "snippet.tf")

    assert problems(uses, provider_5) == []
    assert problems(uses, provider_6, SIX_RETIRED) == [
        f"snippet.tf: data aws_region name {SIX_RETIRED['data', 'aws_region', 'name']} ({six})",
        f"snippet.tf: data aws_s3_bucket region {SIX_RETIRED['data', 'aws_s3_bucket', 'region']} ({six})",
    ]


def test_an_argument_removed_in_6_or_unknown_to_both_fails(
    provider_5: ProviderSchemas, provider_6: ProviderSchemas
) -> None:
    # aws_eip's `vpc`: deprecated in 5.x, removed in 6.0 (upgrade guide, "Resource aws_eip").
    text = """
resource "aws_eip" "this" {
  vpc = true
}

resource "aws_lambda_function" "this" {
  logging_config {
    log_colour = "JSON"
  }
}
"""
    uses = uses_in_hcl(text, "snippet.tf")
    unknown = "logging_config.log_colour"

    assert problems(uses, provider_5) == [
        f"snippet.tf: resource aws_eip vpc is deprecated ({provider_5.version})",
        f"snippet.tf: resource aws_lambda_function {unknown} does not exist ({provider_5.version})",
    ]
    assert problems(uses, provider_6) == [
        f"snippet.tf: resource aws_eip vpc does not exist ({provider_6.version})",
        f"snippet.tf: resource aws_lambda_function {unknown} does not exist ({provider_6.version})",
    ]


def test_a_type_removed_in_6_fails_there(provider_5: ProviderSchemas, provider_6: ProviderSchemas) -> None:
    # aws_simpledb_domain: removed in 6.0 (upgrade guide, "SimpleDB Support Removed").
    uses = uses_in_hcl('resource "aws_simpledb_domain" "this" {\n  name = "x"\n}\n', "snippet.tf")

    assert problems(uses, provider_5) == []
    assert problems(uses, provider_6) == [
        f"snippet.tf: resource aws_simpledb_domain does not exist in provider {provider_6.version}"
    ]
