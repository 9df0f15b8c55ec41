"""Each `distributions` validation message names the labels whose entry breaks its rule, and only those.

`terraform validate` checks a module call's known inputs against the module's validation rules: no
provider call is made, so the endpoint given to the staged root module is never reached.
"""

from __future__ import annotations

import re
from pathlib import Path

from support.terraform import Terraform, stage_root_module

ROOT_MODULE = """module "invalidation" {
  source      = "../.."
  name        = "site-invalidator"
  bucket_name = "example-site"
  distributions = {
    good  = { id = "E2QWRUHAPOMQZL", origin_path = "/site", strip_extensions = [".html"] }
    arn   = { id = "arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL", origin_path = "site/" }
    slash = { id = "E3", origin_path = "/docs/", strip_extensions = ["html"] }
  }
}
"""
UNREACHABLE_ENDPOINT = "http://127.0.0.1:9"


def validation_messages(workdir: Path) -> list[str]:
    terraform = Terraform(stage_root_module(workdir, "messages", ROOT_MODULE), UNREACHABLE_ENDPOINT)
    terraform.init()
    result = terraform.run("validate", "validate", "-no-color", ok_codes=(1,))
    text = " ".join((result.stdout + result.stderr).split())
    return re.findall(r"elements (.+?) This was checked by the validation rule", text)


def test_each_distributions_message_names_the_offending_labels_only(tmp_path: Path) -> None:
    messages = validation_messages(tmp_path)

    assert len(messages) == 3, messages
    assert any(m.startswith("distributions arn: id must be a CloudFront distribution id") for m in messages)
    assert any(m.startswith("distributions arn, slash: origin_path must be") for m in messages)
    assert any(m.startswith("distributions slash: each strip_extensions entry must") for m in messages)
