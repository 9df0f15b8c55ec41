"""The README's Inputs and Outputs tables say what variables.tf and outputs.tf declare.

A variable or output added, removed, renamed or re-described in the module without the README (or the
other way round) fails here. The parser reads the module's own narrow style: top-level `variable` and
`output` blocks whose attributes sit on lines indented by two spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCK_START = re.compile(r'^(variable|output) "([A-Za-z0-9_-]+)" \{\s*$', re.MULTILINE)
ATTRIBUTE = re.compile(r"^  ([a-z_]+)\s*=\s*(.*)$")
REQUIRED = "n/a"


@dataclass(frozen=True)
class Declaration:
    name: str
    description: str
    type: str = ""
    default: str = REQUIRED


def blocks(text: str, kind: str) -> dict[str, list[str]]:
    """The lines inside each top-level block of `kind`, by name, in file order."""
    found: dict[str, list[str]] = {}
    for match in BLOCK_START.finditer(text):
        if match.group(1) != kind:
            continue
        end = text.index("\n}", match.end())
        found[match.group(2)] = text[match.end() : end].strip("\n").splitlines()
    return found


def attributes(lines: list[str]) -> dict[str, str]:
    """Two-space-indented attributes of a block; a value spanning lines runs to the next attribute."""
    values: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        match = ATTRIBUTE.match(line)
        if match:
            current = values.setdefault(match.group(1), [])
            current.append(match.group(2))
        elif line.startswith("  ") and not line.startswith("  validation") and current is not None:
            current.append(line.strip())
        else:
            current = None
    return {key: " ".join(parts).strip() for key, parts in values.items()}


def hcl_string(value: str) -> str:
    assert value.startswith('"') and value.endswith('"'), f"not a one-line string: {value}"
    return value[1:-1].replace('\\"', '"')


def declarations(path: Path, kind: str) -> list[Declaration]:
    found = []
    for name, lines in blocks(path.read_text(encoding="utf-8"), kind).items():
        attrs = attributes(lines)
        found.append(
            Declaration(
                name=name,
                description=hcl_string(attrs["description"]),
                type=attrs.get("type", ""),
                default=attrs.get("default", REQUIRED),
            )
        )
    return found


def readme_rows(section: str, readme: Path = ROOT / "README.md") -> list[list[str]]:
    """The body rows of the first table under `## <section>`, cells without surrounding backticks."""
    text = readme.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"README.md has no '## {section}' section"
    table = [line for line in match.group(1).splitlines() if line.startswith("|")]
    assert len(table) > 2, f"README.md '## {section}' has no table"
    return [[cell.strip().strip("`") for cell in row.strip("|").split("|")] for row in table[2:]]


def same_code(left: str, right: str) -> bool:
    """Whether two HCL expressions read the same once layout (spaces, newlines, commas) is ignored."""
    return re.sub(r"[\s,]", "", left) == re.sub(r"[\s,]", "", right)


VARIABLES = declarations(ROOT / "variables.tf", "variable")
OUTPUTS = declarations(ROOT / "outputs.tf", "output")


def test_parser_reads_multiline_types_defaults_and_required_variables() -> None:
    text = """variable "a" {
  type = map(object({
    id = string
  }))
  description = "The \\"a\\" input."
  nullable    = false

  validation {
    condition     = true
    error_message = "x"
  }
}

variable "b" {
  type        = number
  description = "B."
  default     = 3
}
"""
    parsed = {name: attributes(lines) for name, lines in blocks(text, "variable").items()}
    assert parsed["a"]["type"] == "map(object({ id = string }))"
    assert hcl_string(parsed["a"]["description"]) == 'The "a" input.'
    assert "default" not in parsed["a"]
    assert parsed["b"] == {"type": "number", "description": '"B."', "default": "3"}


def test_module_declares_the_public_interface() -> None:
    names = {v.name for v in VARIABLES}
    assert {"name", "bucket_name", "distributions", "notification_mode", "tags"} <= names
    assert {o.name for o in OUTPUTS} >= {
        "function_name",
        "function_arn",
        "role_arn",
        "queue_arn",
        "queue_url",
        "dead_letter_queue_arn",
        "dead_letter_queue_url",
        "log_group_name",
    }


def test_inputs_table_lists_every_variable_in_alphabetical_order() -> None:
    assert [row[0] for row in readme_rows("Inputs")] == [v.name for v in VARIABLES]
    assert [v.name for v in VARIABLES] == sorted(v.name for v in VARIABLES)


@pytest.mark.parametrize("variable", VARIABLES, ids=lambda v: v.name)
def test_inputs_table_row_matches_the_variable(variable: Declaration) -> None:
    rows = {row[0]: row for row in readme_rows("Inputs")}
    assert variable.name in rows, f"README.md Inputs lacks {variable.name}"
    _, description, type_, default, required = rows[variable.name]
    assert description == variable.description
    assert same_code(type_, variable.type), f"{variable.name}: README type {type_!r} vs {variable.type!r}"
    assert same_code(default, variable.default), f"{variable.name}: README default {default!r}"
    assert required == ("yes" if variable.default == REQUIRED else "no")


def test_outputs_table_lists_every_output_with_its_description() -> None:
    assert [(row[0], row[1]) for row in readme_rows("Outputs")] == [(o.name, o.description) for o in OUTPUTS]
