"""Shared fixtures: in-process moto for unit tests; one moto server per session and the examples applied
on it once, in parallel.

Applying takes most of the end-to-end time (the aws provider waits ~25 s per SQS queue for its
attributes to settle), so the three deployments (examples/basic in mode "s3", examples/multi-distribution
in mode "eventbridge", and a small root module in mode "none") are applied side by side on one server,
each with its own bucket, names and state, and shared by every test that uses them. Tests leave the
queues drained and tell their invalidations apart by watching for new ones.

The examples' buckets are versioned, as change detection (on by default) needs: a key a test writes for
the first time is a new object and is invalidated, and an overwrite with other bytes is a change. The
mode "none" bucket is not, so the handler's path for an unversioned bucket runs end to end as well.
Its deployment also fronts the viewer-URL cases (test_e2e_viewer_urls.py): a distribution with both
rewrite options, one whose origin is another bucket (distribution_mismatch), and one with origin_path
"auto" over two origins of the bucket.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import Phase, settings

from support.deployment import (
    EXAMPLE_SITES,
    Deployment,
    deploy,
    example_variables,
    prepare_site,
    viewer_url_distributions,
)
from support.moto_server import FAKE_AWS_ENVIRONMENT, MotoServer
from support.terraform import stage_example, stage_root_module
from support.versioned_bucket import CountingS3, TickingClock, install_clock, versioned_bucket

# `make mutate` runs the tests with --hypothesis-profile=mutation: a mutant is killed by the first failing
# example, so the shrink phase (re-running the test many times to minimise it) is skipped. The number of
# examples each property test asks for is unchanged.
settings.register_profile("mutation", phases=[Phase.explicit, Phase.reuse, Phase.generate])

MODE_NONE_ROOT_MODULE = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.76.0, < 7.0" }
  }
}

variable "bucket_name" { type = string }
variable "distribution_ids" { type = map(string) }
variable "skip_unchanged_objects" {
  type    = bool
  default = true
}

module "invalidation" {
  source      = "../.."
  name        = "site-wired-by-hand"
  bucket_name = var.bucket_name
  distributions = {
    site   = { id = var.distribution_ids["site"] }
    pretty = {
      id                      = var.distribution_ids["pretty"]
      directory_without_slash = true
      strip_extensions        = [".html"]
    }
    other = { id = var.distribution_ids["other"] }
    auto  = { id = var.distribution_ids["auto"], origin_path = "auto" }
  }
  notification_mode = "none"

  skip_unchanged_objects = var.skip_unchanged_objects
}

output "function_name" { value = module.invalidation.function_name }
output "queue_arn" { value = module.invalidation.queue_arn }
output "queue_url" { value = module.invalidation.queue_url }
output "dead_letter_queue_url" { value = module.invalidation.dead_letter_queue_url }
"""


@pytest.fixture
def mocked_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In-process moto (`mock_aws`) with fake credentials and the region in the environment."""
    from moto import mock_aws  # noqa: PLC0415 (moto loads slowly; only the tests that use it pay)

    for name, value in FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def clock(mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> TickingClock:
    """The handler's clocks (change detection's, the tree's) on a clock the test moves (versioned_bucket)."""
    return install_clock(monkeypatch)


@pytest.fixture
def s3(clock: TickingClock) -> CountingS3:
    """A versioned site bucket in in-process moto, through a client that counts the handler's calls. Test
    modules that need another S3 define their own `s3`."""
    import boto3  # noqa: PLC0415 (with moto, only for the tests that use it)

    client = boto3.client("s3")
    versioned_bucket(client)
    return CountingS3(client)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """A moto server on 127.0.0.1 (a free port), stopped at the end of the session; its log in a temp dir."""
    with MotoServer(log_path=tmp_path_factory.mktemp("moto") / "moto_server.log") as server:
        yield server


def deploy_example(server: MotoServer, root: Path, example: str, bucket: str) -> Deployment:
    distributions = prepare_site(server, bucket, EXAMPLE_SITES[example], versioned=True)
    return deploy(
        server,
        stage_example(root / "stage", example),
        example_variables(example, bucket, distributions),
        bucket=bucket,
        distributions=distributions,
        runtime_dir=root / "runtime",
    )


def deploy_mode_none(server: MotoServer, root: Path) -> Deployment:
    bucket = "e2e-none-site"
    distributions = prepare_site(server, bucket, {"site": "", "pretty": ""})
    distributions.update(viewer_url_distributions(server, bucket))
    return deploy(
        server,
        stage_root_module(root / "stage", "mode-none", MODE_NONE_ROOT_MODULE),
        {"bucket_name": bucket, "distribution_ids": distributions},
        bucket=bucket,
        distributions=distributions,
        runtime_dir=root / "runtime",
    )


DEPLOYERS: dict[str, Callable[[MotoServer, Path], Deployment]] = {
    "basic": lambda server, root: deploy_example(server, root, "basic", "e2e-basic-site"),
    "multi-distribution": lambda server, root: deploy_example(
        server, root, "multi-distribution", "e2e-multi-site"
    ),
    "none": deploy_mode_none,
}


# Not pytest-terraform's @terraform fixture: it applies one module at a time, these three side by side.
@pytest.fixture(scope="session")
def deployments(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Deployment]:
    """Every end-to-end deployment, applied once per session in parallel on an emptied moto server."""
    moto_server.reset()
    root = tmp_path_factory.mktemp("e2e")
    with ThreadPoolExecutor(max_workers=len(DEPLOYERS)) as pool:
        futures = {
            name: pool.submit(deployer, moto_server, root / name) for name, deployer in DEPLOYERS.items()
        }
        return {name: future.result() for name, future in futures.items()}
