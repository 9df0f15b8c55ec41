"""The README's Requirements, Providers, Inputs and Outputs are what the module's .tf files declare.

`make docs` (scripts/tf_docs.py) writes them between `<!-- BEGIN_TF_DOCS -->` markers; these tests
regenerate them and compare, so a variable or output added, removed, renamed, re-typed or re-described
without `make docs` fails here. The parser is graded against hand-written HCL and hand-written tables,
and the README's list of names against a plain scan of the .tf files.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from tf_docs import BEGIN, END, Block, items, main, one_line, render, string_value, with_section

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def declared_names(path: Path, kind: str) -> list[str]:
    """Names of the top-level `kind` blocks, by a plain line scan (the module is `terraform fmt`ed)."""
    return re.findall(rf'^{kind} "([A-Za-z0-9_-]+)" \{{', path.read_text(encoding="utf-8"), re.MULTILINE)


def readme_names(kind: str) -> list[str]:
    return re.findall(rf'<a name="{kind}_([A-Za-z0-9_-]+)"></a>', README.read_text(encoding="utf-8"))


def test_readme_tables_are_what_the_tf_files_declare() -> None:
    text = README.read_text(encoding="utf-8")
    assert with_section(text, render(ROOT)) == text, "run `make docs`"


def test_readme_inputs_name_every_variable_in_alphabetical_order() -> None:
    names = declared_names(ROOT / "variables.tf", "variable")
    assert readme_names("input") == sorted(names)
    assert len(names) > 20


def test_readme_outputs_name_every_output_in_alphabetical_order() -> None:
    assert readme_names("output") == sorted(declared_names(ROOT / "outputs.tf", "output"))


def test_module_declares_the_public_interface() -> None:
    assert {"name", "bucket_name", "distributions", "notification_mode", "tags"} <= set(readme_names("input"))
    assert set(readme_names("output")) >= {
        "function_name",
        "function_arn",
        "role_arn",
        "queue_arn",
        "queue_url",
        "dead_letter_queue_arn",
        "dead_letter_queue_url",
        "log_group_name",
    }


TRICKY = r"""# a comment with { an unbalanced brace
variable "a" {
  type = map(object({
    id   = string # the id }
    tags = optional(list(string), [])
  }))
  description = "The \"a\" input: { and | inside."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z}{]+$", "${var.a == "}" ? "x" : "y"}"))
    error_message = "Not \"}\" nor ${"{"}."
  }
}

/* a block comment with } */
output "b" {
  description = "B, one line."
  value       = { x = 1, y = "a, b" }
}
"""


def test_parser_reads_blocks_past_braces_and_quotes_in_strings_and_comments() -> None:
    blocks, attributes = items(TRICKY)
    assert attributes == {}
    assert [(b.kind, b.labels) for b in blocks] == [("variable", ("a",)), ("output", ("b",))]
    inner, variable = items(blocks[0].body)
    assert [b.kind for b in inner] == ["validation"]
    assert set(variable) == {"type", "description", "nullable"}
    assert string_value(variable["description"]) == 'The "a" input: { and | inside.'
    assert one_line(variable["type"]) == "map(object({ id = string, tags = optional(list(string), []) }))"
    assert items(blocks[1].body)[1]["value"] == '{ x = 1, y = "a, b" }'


def test_parser_splits_an_object_constructor_on_commas_outside_strings() -> None:
    assert items('source = "hashicorp/aws", version = ">= 5.76.0, < 7.0"')[1] == {
        "source": '"hashicorp/aws"',
        "version": '">= 5.76.0, < 7.0"',
    }


def test_parser_refuses_a_heredoc_rather_than_misreading_it() -> None:
    with pytest.raises(ValueError, match="heredoc"):
        items('variable "a" {\n  description = <<EOT\nx\nEOT\n}\n')


def test_string_value_refuses_an_expression() -> None:
    with pytest.raises(ValueError):
        string_value('"a" + "b"')


def test_block_holds_its_body_without_the_braces() -> None:
    assert items('terraform {\n  required_version = ">= 1.5"\n}\n')[0] == [
        Block("terraform", (), '\n  required_version = ">= 1.5"\n')
    ]


MODULE = {
    "variables.tf": """variable "zeta" {
  type        = list(string)
  description = "Zeta | piped."
  default     = ["a", "b"]
}

variable "alpha" {
  type = object({
    id = string
  })
  description = "Alpha."
}
""",
    "outputs.tf": 'output "out" {\n  description = "The \\"out\\"."\n  value       = 1\n}\n',
    "versions.tf": """terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # why the floor
      version = ">= 5.76.0, < 7.0"
    }
  }
}
""",
}
EXPECTED = (
    BEGIN
    + """
## Requirements

| Name | Version |
|------|---------|
| <a name="requirement_terraform"></a> [terraform](#requirement\\_terraform) | >= 1.5 |
| <a name="requirement_aws"></a> [aws](#requirement\\_aws) | >= 5.76.0, < 7.0 |

## Providers

| Name | Version |
|------|---------|
| <a name="provider_aws"></a> [aws](#provider\\_aws) | >= 5.76.0, < 7.0 |

## Inputs

| Name | Description | Type | Default | Required |
|------|-------------|------|---------|:--------:|
| <a name="input_alpha"></a> [alpha](#input\\_alpha) | Alpha. | `object({ id = string })` | n/a | yes |
| <a name="input_zeta"></a> [zeta](#input\\_zeta) | Zeta \\| piped. | `list(string)` | `["a", "b"]` | no |

## Outputs

| Name | Description |
|------|-------------|
| <a name="output_out"></a> [out](#output\\_out) | The "out". |
"""
    + END
)


def test_render_gives_terraform_docs_tables_of_a_module(tmp_path: Path) -> None:
    for name, text in MODULE.items():
        (tmp_path / name).write_text(text)
    assert render(tmp_path) == EXPECTED


def test_check_fails_on_a_stale_readme_and_passes_once_written(tmp_path: Path) -> None:
    for name, text in MODULE.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "README.md").write_text(f"# M\n\n{BEGIN}\nold\n{END}\n\nend\n")
    assert main(["--check"], root=tmp_path) == 1
    assert main([], root=tmp_path) == 0
    assert (tmp_path / "README.md").read_text() == f"# M\n\n{EXPECTED}\n\nend\n"
    assert main(["--check"], root=tmp_path) == 0


def test_readme_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        with_section("# no markers\n", f"{BEGIN}\n{END}")
