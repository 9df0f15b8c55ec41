"""Run Terraform against a moto server from a throwaway copy of the module.

A run copies what it needs into a temporary directory with the repository's relative layout kept (the
module's *.tf and dist/ at the root, a root module under examples/<name>), so `source = "../.."` works
and nothing is written into the checkout. It adds a provider configuration that points every AWS
service the module uses at moto, and runs terraform with the project's CLI configuration (local
provider mirror + plugin cache, from scripts/tf_cli_config.sh). A failing step raises TerraformError
naming the step and carrying terraform's stderr.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_terraform.tf import TerraformTestApi

from support.moto_server import FAKE_AWS_ENVIRONMENT, FAKE_CREDENTIALS, REGION

REPO_ROOT = Path(__file__).resolve().parents[3]
# Every service the module and its examples call; the provider would otherwise go to real AWS.
MOTO_SERVICES = (
    "cloudfront",
    "cloudwatch",
    "dynamodb",
    "events",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "sqs",
    "sts",
)
VARIABLES_FILE = "moto.auto.tfvars.json"
PROVIDER_BLOCK = re.compile(r'^\s*provider\s+"aws"\s*\{', re.MULTILINE)
ERROR_TAIL_CHARS = 6000
LOCK_FILE = ".terraform.lock.hcl"
STATE_FILE = "terraform.tfstate"  # the local backend's: a staged root module declares no backend
# Terraform's plugin cache is not safe for concurrent `terraform init`; applies may run in parallel.
INIT_LOCK = threading.Lock()
# The first init's dependency lock file, given to every later init (see Terraform.init).
_seed_lock_file: list[str] = []


class TerraformError(RuntimeError):
    """A terraform step failed; the message names the step and quotes terraform's output."""

    def __init__(self, step: str, workdir: Path, returncode: int, stdout: str, stderr: str) -> None:
        self.step = step
        self.returncode = returncode
        self.stderr = stderr
        details = (stderr.strip() or stdout.strip())[-ERROR_TAIL_CHARS:]
        super().__init__(f"terraform {step} failed (exit {returncode}) in {workdir}:\n{details}")


@functools.cache
def cli_config_file() -> Path:
    """The Terraform CLI configuration of this checkout (written by scripts/tf_cli_config.sh)."""
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "tf_cli_config.sh")], capture_output=True, text=True, check=True
    )
    return Path(result.stdout.strip())


def stage_module(destination: Path) -> None:
    """Copy the module (root *.tf files and dist/) into `destination`."""
    destination.mkdir(parents=True, exist_ok=True)
    for tf_file in sorted(REPO_ROOT.glob("*.tf")):
        shutil.copy2(tf_file, destination / tf_file.name)
    shutil.copytree(REPO_ROOT / "dist", destination / "dist", dirs_exist_ok=True)


def stage_example(destination: Path, example: str) -> Path:
    """Copy the module and examples/<example> into `destination`; return the example's directory."""
    stage_module(destination)
    workdir = destination / "examples" / example
    shutil.copytree(
        REPO_ROOT / "examples" / example,
        workdir,
        ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", LOCK_FILE, "*.tfplan"),
    )
    return workdir


def stage_root_module(destination: Path, name: str, main_tf: str) -> Path:
    """Copy the module and write a root module `main_tf` at examples/<name>; return its directory."""
    stage_module(destination)
    workdir = destination / "examples" / name
    workdir.mkdir(parents=True)
    (workdir / "main.tf").write_text(main_tf, encoding="utf-8")
    return workdir


def provider_settings(endpoint_url: str, region: str = REGION) -> str:
    """The body of a `provider "aws"` block that sends every call to moto with fake credentials."""
    endpoints = "\n".join(f'    {service} = "{endpoint_url}"' for service in MOTO_SERVICES)
    return f"""  region                      = "{region}"
  access_key                  = "{FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]}"
  secret_key                  = "{FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true

  endpoints {{
{endpoints}
  }}
"""


# pytest-terraform runs a module as it lies, with no provider override: this file points it at moto.
def write_provider_configuration(workdir: Path, endpoint_url: str) -> Path:
    """Point the root module's aws provider at moto.

    When the root module declares `provider "aws"`, an override file merges into it (its region,
    credentials and endpoints win); otherwise a plain file declares the provider.
    """
    declares_provider = any(PROVIDER_BLOCK.search(path.read_text()) for path in workdir.glob("*.tf"))
    path = workdir / ("moto_override.tf" if declares_provider else "moto_provider.tf")
    path.write_text(f'provider "aws" {{\n{provider_settings(endpoint_url)}}}\n', encoding="utf-8")
    return path


@dataclass
class Terraform:
    """Terraform commands in one working directory, against the moto server at `endpoint_url`."""

    workdir: Path
    endpoint_url: str
    durations: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        write_provider_configuration(self.workdir, self.endpoint_url)

    # pytest-terraform's runner inherits os.environ: it cannot pass this CLI config or fake credentials.
    def environment(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
        return {
            **inherited,
            **FAKE_AWS_ENVIRONMENT,
            "AWS_EC2_METADATA_DISABLED": "true",
            "TF_CLI_CONFIG_FILE": str(cli_config_file()),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
        }

    def run(
        self, step: str, *args: str, ok_codes: tuple[int, ...] = (0,)
    ) -> subprocess.CompletedProcess[str]:
        """Run `terraform <args>`; raise TerraformError unless its exit code is in ok_codes."""
        if shutil.which("terraform") is None:
            raise TerraformError(
                step, self.workdir, 127, "", "terraform is not on PATH: install Terraform >= 1.5"
            )
        started = time.monotonic()
        result = subprocess.run(
            ["terraform", *args],
            cwd=self.workdir,
            env=self.environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        self.durations[step] = self.durations.get(step, 0.0) + time.monotonic() - started
        if result.returncode not in ok_codes:
            raise TerraformError(step, self.workdir, result.returncode, result.stdout, result.stderr)
        return result

    # pytest-terraform has no input variables (no -var or tfvars option): they go in an auto tfvars file.
    def set_variables(self, variables: Mapping[str, Any]) -> None:
        """Give the root module these input variables for every later plan and apply."""
        (self.workdir / VARIABLES_FILE).write_text(json.dumps(variables, indent=2), encoding="utf-8")

    # pytest-terraform's init knows no plugin cache lock: parallel inits need the lock file given here.
    def init(self) -> None:
        """`terraform init`, one at a time, every one after the first given the first's lock file.

        An init without a lock file cannot check the plugin cache's copy of the provider, so it installs
        the provider into the cache again, replacing the cached directory; a plan or apply of a parallel
        test that reads the cache at that moment fails with "Required plugins are not installed". With
        the lock file, init checks the cached copy against its hash and only links it.
        """
        with INIT_LOCK:
            if _seed_lock_file:
                (self.workdir / LOCK_FILE).write_text(_seed_lock_file[0], encoding="utf-8")
            self.run("init", "init", "-input=false", "-no-color", "-backend=false")
            if not _seed_lock_file:
                _seed_lock_file.append((self.workdir / LOCK_FILE).read_text(encoding="utf-8"))

    def apply(self) -> None:
        self.run("apply", "apply", "-input=false", "-no-color", "-auto-approve")

    def plan_exit_code(self) -> int:
        """`terraform plan -detailed-exitcode`: 0 no changes, 2 changes (1 raises TerraformError)."""
        return self.run(
            "plan", "plan", "-input=false", "-no-color", "-detailed-exitcode", ok_codes=(0, 2)
        ).returncode

    def plan_changes(self) -> str:
        """The text of `terraform plan` (to show what a non-empty plan would change)."""
        return self.run("plan", "plan", "-input=false", "-no-color").stdout

    def saved_plan(self) -> dict[str, Any]:
        """`terraform plan -out` then `terraform show -json` of that saved plan."""
        self.run("plan -out", "plan", "-input=false", "-no-color", "-out=moto.tfplan")
        shown = self.run("show -json", "show", "-json", "-no-color", "moto.tfplan")
        plan: dict[str, Any] = json.loads(shown.stdout)
        return plan

    def state(self) -> Any:
        """The applied state as pytest-terraform hands it to a test: resources by type and name (one
        module instance: its resources count as the root's), `state["aws_sqs_queue.this.url"]` jmespath
        lookups, and `.outputs`. (Its @terraform fixture itself applies one module at a time, unseen.)"""
        return TerraformTestApi.from_file(str(self.workdir / STATE_FILE))

    def outputs(self) -> dict[str, Any]:
        """The root module's outputs, as {name: value}, from the applied state."""
        return {name: entry["value"] for name, entry in self.state().outputs.items()}
