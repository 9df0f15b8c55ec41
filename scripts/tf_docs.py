"""`make docs`: the README's Requirements, Providers, Inputs and Outputs, generated from the .tf files.

The tables follow terraform-docs' markdown table layout (anchored names; Inputs: name, description, type,
default, required) and sit in README.md between `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->`.
terraform-docs itself is not a Python package, so this reads HCL with a small parser of its own: top-level
blocks and their attributes, with strings (escapes, `${...}` interpolation), comments and nested brackets
skipped properly, so that a brace or quote inside a validation's regex cannot end a block early. It reads
what terraform-docs would show and nothing more: a variable's type, description and default, an output's
description, versions.tf's required_version and required_providers. Heredocs are not supported (the
module has none): one raises ValueError rather than being misread.

    scripts/tf_docs.py          rewrite the README's section
    scripts/tf_docs.py --check  exit 1 when the README's section is not what the .tf files say
tests/python/test_tf_docs.py runs the check, so a variable changed without `make docs` fails the tests.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"
OPENERS = {"(": ")", "[": "]", "{": "}"}
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
REQUIRED = "n/a"


@dataclass(frozen=True)
class Block:
    kind: str
    labels: tuple[str, ...]
    body: str


def _string_end(text: str, i: int) -> int:
    """Index after the string literal opening at text[i] == '"', interpolations included."""
    i += 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
        elif char == '"':
            return i + 1
        elif text.startswith(("${", "%{"), i):
            i = _skip(text, i + 2, "}") + 1
        elif char == "\n":
            raise ValueError(f"unterminated string at offset {i}")
        else:
            i += 1
    raise ValueError("unterminated string")


def _comment_end(text: str, i: int) -> int | None:
    """Index where the comment starting at i ends (its newline stays), or None when none starts there."""
    if text.startswith("/*", i):
        return text.index("*/", i + 2) + 2
    if text[i] == "#" or text.startswith("//", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    return None


def _skip(text: str, i: int, closers: str) -> int:
    """Index of the first of `closers` from i outside strings, comments and nested brackets."""
    while i < len(text):
        char = text[i]
        if char in closers:
            return i
        if text.startswith("<<", i):
            raise ValueError(f"heredoc at offset {i}: not supported")
        comment = _comment_end(text, i)
        if comment is not None:
            i = comment
        elif char == '"':
            i = _string_end(text, i)
        elif char in OPENERS:
            i = _skip(text, i + 1, OPENERS[char]) + 1
        else:
            i += 1
    raise ValueError(f"no {closers!r} before the end")


def _next_item(text: str, i: int) -> int:
    """Index of the next identifier at this level, past blanks and comments (len(text) at the end)."""
    while i < len(text):
        comment = _comment_end(text, i)
        if comment is not None:
            i = comment
        elif text[i].isspace():
            i += 1
        else:
            return i
    return i


def items(text: str) -> tuple[list[Block], dict[str, str]]:
    """The blocks and the attributes (name -> expression source) of one body, in order.

    An attribute's expression runs to the end of its line or to a comma (an object constructor's
    separator), whichever comes first outside brackets and strings.
    """
    text += "\n"
    blocks: list[Block] = []
    attributes: dict[str, str] = {}
    i = _next_item(text, 0)
    while i < len(text):
        name = IDENTIFIER.match(text, i)
        if name is None:
            raise ValueError(f"expected a name at offset {i}: {text[i : i + 30]!r}")
        i = name.end()
        rest = re.compile(r'[ \t]*((?:"[^"\n]*"[ \t]*)*)(=(?!=)|\{)').match(text, i)
        if rest is None:
            raise ValueError(f"expected '=' or a block after {name.group()!r}")
        if rest.group(2) == "=":
            end = _skip(text, rest.end(), "\n,")
            attributes[name.group()] = text[rest.end() : end].strip()
            end += 1
        else:
            end = _skip(text, rest.end(), "}")
            labels = tuple(re.findall(r'"([^"\n]*)"', rest.group(1)))
            blocks.append(Block(name.group(), labels, text[rest.end() : end]))
            end += 1
        i = _next_item(text, end)
    return blocks, attributes


def one_line(expression: str) -> str:
    """An HCL expression on one line: lines joined, with a comma where an object's attributes met."""
    lines = _without_comments(expression).splitlines()
    parts = [_single_spaced(line.strip()) for line in lines if line.strip()]
    joined = parts[0] if parts else ""
    for part in parts[1:]:
        gap = " " if joined.endswith(("(", "[", "{", ",")) or part[0] in ")]}" else ", "
        joined += gap + part
    return joined


def _without_comments(expression: str) -> str:
    """The expression with its comments (outside string literals) removed."""
    kept, i = [], 0
    while i < len(expression):
        comment = _comment_end(expression, i)
        if comment is not None:
            i = comment
        elif expression[i] == '"':
            end = _string_end(expression, i)
            kept.append(expression[i:end])
            i = end
        else:
            kept.append(expression[i])
            i += 1
    return "".join(kept)


def _single_spaced(line: str) -> str:
    """A line with runs of blanks outside string literals made one space (alignment dropped)."""
    pieces = re.split(r'("(?:[^"\\]|\\.)*")', line)
    return "".join(p if p.startswith('"') else re.sub(r"[ \t]+", " ", p) for p in pieces)


def string_value(expression: str) -> str:
    """The value of a one-line HCL string literal without interpolation."""
    if not (expression.startswith('"') and _string_end(expression, 0) == len(expression)):
        raise ValueError(f"not one string literal: {expression}")
    if "${" in expression or "%{" in expression:
        raise ValueError(f"interpolation in a description: {expression}")
    escapes = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), expression[1:-1])


def cell(text: str) -> str:
    """Text as one markdown table cell: pipes escaped, lines joined."""
    return " ".join(text.split("\n")).replace("|", "\\|")


def code(text: str) -> str:
    return f"`{cell(text)}`"


def anchored(kind: str, name: str) -> str:
    """terraform-docs' anchored name: `<a name="input_x"></a> [x](#input\\_x)`."""
    escaped = name.replace("_", "\\_")
    return f'<a name="{kind}_{name}"></a> [{escaped}](#{kind}\\_{escaped})'


def module_blocks(root: Path, kind: str) -> list[Block]:
    """The module's top-level blocks of `kind`, from every .tf file of its root directory, by name."""
    found = []
    for path in sorted(root.glob("*.tf")):
        found += [block for block in items(path.read_text(encoding="utf-8"))[0] if block.kind == kind]
    return sorted(found, key=lambda block: block.labels)


def inputs_table(root: Path) -> list[str]:
    rows = [
        "| Name | Description | Type | Default | Required |",
        "|------|-------------|------|---------|:--------:|",
    ]
    for block in module_blocks(root, "variable"):
        attrs = items(block.body)[1]
        default = attrs.get("default")
        shown, required = (REQUIRED, "yes") if default is None else (code(one_line(default)), "no")
        rows.append(
            f"| {anchored('input', block.labels[0])} | {cell(string_value(attrs['description']))} "
            f"| {code(one_line(attrs.get('type', 'any')))} | {shown} | {required} |"
        )
    return rows


def outputs_table(root: Path) -> list[str]:
    rows = ["| Name | Description |", "|------|-------------|"]
    for block in module_blocks(root, "output"):
        description = string_value(items(block.body)[1]["description"])
        rows.append(f"| {anchored('output', block.labels[0])} | {cell(description)} |")
    return rows


def requirements(root: Path) -> tuple[list[str], list[str]]:
    """The Requirements rows (Terraform, then each provider) and the Providers rows, from `terraform {}`."""
    terraform = next(iter(module_blocks(root, "terraform")), None)
    if terraform is None:
        return [], []
    blocks, attrs = items(terraform.body)
    needed = [("terraform", string_value(attrs["required_version"]))] if "required_version" in attrs else []
    providers = next((b for b in blocks if b.kind == "required_providers"), None)
    declared = sorted(items(providers.body)[1].items()) if providers else []
    versions = [(name, _constraint(spec)) for name, spec in declared]
    requirement_rows = [f"| {anchored('requirement', n)} | {cell(v)} |" for n, v in needed + versions]
    provider_rows = [f"| {anchored('provider', n)} | {cell(v)} |" for n, v in versions]
    return requirement_rows, provider_rows


def _constraint(spec: str) -> str:
    """The `version` of a required_providers entry (`{ source = ..., version = ... }`), or n/a."""
    inner = spec.strip()
    if not inner.startswith("{"):
        return REQUIRED
    version = items(inner[1 : inner.rindex("}")])[1].get("version")
    return REQUIRED if version is None else string_value(version)


def render(root: Path = ROOT) -> str:
    """The README's generated section, markers included."""
    requirement_rows, provider_rows = requirements(root)
    sections = [
        ("Requirements", ["| Name | Version |", "|------|---------|", *requirement_rows]),
        ("Providers", ["| Name | Version |", "|------|---------|", *provider_rows]),
        ("Inputs", inputs_table(root)),
        ("Outputs", outputs_table(root)),
    ]
    body = "\n\n".join(f"## {title}\n\n" + "\n".join(rows) for title, rows in sections)
    return f"{BEGIN}\n{body}\n{END}"


def with_section(readme_text: str, section: str) -> str:
    """The README text with its generated section replaced; ValueError unless the markers are there once."""
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if len(pattern.findall(readme_text)) != 1:
        raise ValueError(f"README.md needs exactly one {BEGIN} ... {END} pair")
    return pattern.sub(lambda _: section, readme_text)


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the README is out of date")
    args = parser.parse_args(argv)
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    wanted = with_section(text, render(root))
    if args.check:
        if wanted != text:
            print("README.md's Inputs/Outputs are out of date: run `make docs`", file=sys.stderr)
            return 1
        return 0
    readme.write_text(wanted, encoding="utf-8")
    print("README.md: Requirements, Providers, Inputs and Outputs written from the .tf files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
