"""Which AWS provider attributes the .tf files use, and whether a provider major has each, undeprecated.

A *use* is an argument or nested block a `resource`, `data` or `provider "aws"` block sets (dynamic blocks
by their label), or an attribute read through a reference: `aws_x.name.attr`, `data.aws_x.name[*].attr`,
or `v.attr` where `for v in aws_x.name` binds `v`. A read's path goes on through nested blocks
(`aws_x.n.block[0].attr`) and stops at the first attribute (what follows is inside its value).

Two schemas, one shape (Block): provider 5.x from `terraform providers schema -json` (which marks
deprecated attributes), provider 6.x from the prebuilt CDKTF bindings on PyPI, generated from provider
6.25.0, whose JavaScript names every argument (`synthesizeAttributes`, one converter per nested block)
and every computed attribute (`getStringAttribute('name')`). The bindings carry no deprecations: those
of 6.x come from the 6.0 upgrade guide, in a table the caller passes.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

from support.terraform import REPO_ROOT, Terraform, stage_root_module

KINDS = ("resource", "data")
META_ARGUMENTS = frozenset({"count", "for_each", "depends_on", "lifecycle", "provider", "provisioner"})
MARKERS = frozenset({"__is_block__", "__comments__", "__inline_comments__"})
NAME = r"[A-Za-z_][\w-]*"
# data.aws_x.name[..].attr[..].attr ...: the type, the name, then the read's path.
REFERENCE = re.compile(
    rf"(?<![\w.])(data\.)?(aws_[a-z0-9_]+)\.({NAME})(?:\[[^\]]*\])*((?:\.[a-z_][a-z0-9_]*(?:\[[^\]]*\])*)+)"
)
LOOP = re.compile(rf"\bfor\s+(?:\w+\s*,\s*)?(\w+)\s+in\s+(?:values\()?(data\.)?(aws_[a-z0-9_]+)\.{NAME}\b")
PATH_STEP = re.compile(r"\.([a-z_][a-z0-9_]*)")

CDKTF_DISTRIBUTION = "cdktf-cdktf-provider-aws"
CDKTF_VERSION = "21.22.1"  # generated from hashicorp/aws 6.25.0 (its package.json says which)
CDKTF_CACHE = REPO_ROOT / "build" / "provider-schemas"
CDKTF_BUNDLE = f"cdktf_cdktf_provider_aws/_jsii/provider-aws@{CDKTF_VERSION}.jsii.tgz"
MAIN_CLASS = re.compile(r"^class (\w+) extends cdktf\.Terraform(?:Resource|DataSource|Provider) \{$", re.M)
JS_KEY = re.compile(r"^\s+([a-z0-9_]+): (?:cdktf\.(?:list|hash)Mapper\()?([\w.]+)", re.M)
JS_READ = re.compile(r"\.(?:get\w*Attribute|interpolationForAttribute)\('([a-z0-9_]+)'\)")
AWS_SOURCE = "registry.terraform.io/hashicorp/aws"
SCHEMA_ROOT_MODULE = """terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
"""


@dataclass(frozen=True, order=True)
class Use:
    """One argument or block set, or one attribute read, of a provider type, and the file it is in."""

    kind: str  # "resource", "data" or "provider"
    type: str  # "aws_sqs_queue" ("aws" for the provider)
    path: tuple[str, ...]
    origin: str


@dataclass(frozen=True)
class Block:
    """A schema block: its attributes, those deprecated, and its nested blocks."""

    attributes: frozenset[str]
    deprecated: frozenset[str] = frozenset()
    blocks: Mapping[str, Block] = field(default_factory=dict)


Schemas = dict[tuple[str, str], Block]


@dataclass(frozen=True)
class ProviderSchemas:
    """One provider version's schemas, by (kind, type)."""

    version: str
    schemas: Schemas


# --- Uses ---------------------------------------------------------------------------------------------


def uses_in_hcl(text: str, origin: str) -> set[Use]:
    """Every use (see the module docstring) in one .tf file's text."""
    document = hcl2.loads(text)
    return set(_declared(document, origin)) | set(_read(document, origin))


def uses_in_files(paths: Iterable[Path]) -> set[Use]:
    uses: set[Use] = set()
    for path in paths:
        uses |= uses_in_hcl(path.read_text(encoding="utf-8"), str(path.relative_to(REPO_ROOT)))
    return uses


def _unquote(label: str) -> str:
    return label.strip('"')


def _labelled(entries: list[dict[str, Any]]) -> Iterator[tuple[str, Any]]:
    for entry in entries:
        for label, value in entry.items():
            if label not in MARKERS:
                yield _unquote(label), value


def _declared(document: dict[str, Any], origin: str) -> Iterator[Use]:
    for kind in KINDS:
        for type_, named in _labelled(document.get(kind, [])):
            for body in (value for label, value in named.items() if label not in MARKERS):
                yield from _block_uses(Use(kind, type_, (), origin), body)
    for name, body in _labelled(document.get("provider", [])):
        if name == "aws":
            yield from _block_uses(Use("provider", "aws", (), origin), body)


def _is_block_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and "__is_block__" in v for v in value)
    )


def _block_uses(block: Use, body: dict[str, Any]) -> Iterator[Use]:
    """The arguments and nested blocks set in `body`, a block at `block.path`."""
    for key, value in body.items():
        if key in MARKERS or (not block.path and key in META_ARGUMENTS):
            continue
        if key == "dynamic":
            for label, dynamic in _labelled(value):
                yield from _nested(block, label, dynamic["content"])
        elif _is_block_list(value):
            yield from _nested(block, key, value)
        else:
            yield Use(block.kind, block.type, (*block.path, key), block.origin)


def _nested(block: Use, name: str, bodies: list[dict[str, Any]]) -> Iterator[Use]:
    nested = Use(block.kind, block.type, (*block.path, name), block.origin)
    yield nested
    for body in bodies:
        yield from _block_uses(nested, body)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in MARKERS:
                yield from _strings(item)


def _read(document: dict[str, Any], origin: str) -> Iterator[Use]:
    """Attribute reads: references, and attributes of a `for` variable bound to a provider type."""
    for text in _strings(document):
        for match in REFERENCE.finditer(text):
            kind = "data" if match.group(1) else "resource"
            yield Use(kind, match.group(2), tuple(PATH_STEP.findall(match.group(4))), origin)
        for loop in LOOP.finditer(text):
            kind = "data" if loop.group(2) else "resource"
            bound = re.compile(rf"(?<![\w.]){loop.group(1)}((?:\.[a-z_][a-z0-9_]*(?:\[[^\]]*\])*)+)")
            for read in bound.finditer(text, loop.end()):
                yield Use(kind, loop.group(3), tuple(PATH_STEP.findall(read.group(1))), origin)


# --- Checking -----------------------------------------------------------------------------------------


def problems(
    uses: Iterable[Use], provider: ProviderSchemas, retired: Mapping[tuple[str, str, str], str] | None = None
) -> list[str]:
    """What `provider` lacks or deprecates among `uses`, one line each (none: all is well).

    `retired` adds deprecations the schema does not carry: (kind, type, dotted path) -> why.
    """
    found = []
    for use in sorted(uses):
        block = provider.schemas.get((use.kind, use.type))
        if block is None:
            found.append(f"{use.origin}: {use.kind} {use.type} does not exist in provider {provider.version}")
            continue
        reason = _path_problem(block, use.path) or (retired or {}).get(
            (use.kind, use.type, ".".join(use.path))
        )
        if reason:
            found.append(
                f"{use.origin}: {use.kind} {use.type} {'.'.join(use.path)} {reason} ({provider.version})"
            )
    return found


def _path_problem(block: Block, path: tuple[str, ...]) -> str | None:
    for name in path:
        if name in block.deprecated:
            return "is deprecated"
        if name in block.blocks:
            block = block.blocks[name]
        elif name in block.attributes:
            return None  # what follows is inside the attribute's value
        else:
            return "does not exist"
    return None


# --- Provider 5.x: terraform providers schema -json ---------------------------------------------------


def block_from_terraform(block: Mapping[str, Any]) -> Block:
    """A Block from one block of `terraform providers schema -json`."""
    attributes: Mapping[str, Any] = block.get("attributes", {})
    nested: Mapping[str, Any] = block.get("block_types", {})
    deprecated = {n for n, a in attributes.items() if a.get("deprecated")}
    deprecated |= {n for n, b in nested.items() if b["block"].get("deprecated")}
    return Block(
        frozenset(attributes),
        frozenset(deprecated),
        {name: block_from_terraform(b["block"]) for name, b in nested.items()},
    )


def schemas_from_terraform(document: Mapping[str, Any], version: str) -> ProviderSchemas:
    aws = document["provider_schemas"][AWS_SOURCE]
    schemas: Schemas = {("provider", "aws"): block_from_terraform(aws["provider"]["block"])}
    for kind, key in (("resource", "resource_schemas"), ("data", "data_source_schemas")):
        for type_, schema in aws[key].items():
            schemas[kind, type_] = block_from_terraform(schema["block"])
    return ProviderSchemas(version, schemas)


def installed_provider_schemas(workdir: Path) -> ProviderSchemas:
    """The schemas of the provider `terraform init` installs here (the local mirror's, if any)."""
    terraform = Terraform(stage_root_module(workdir, "schema", SCHEMA_ROOT_MODULE), "http://127.0.0.1:9")
    terraform.init()
    shown = terraform.run("providers schema", "providers", "schema", "-json")
    lock = (terraform.workdir / ".terraform.lock.hcl").read_text(encoding="utf-8")
    version = re.search(r'provider "registry.terraform.io/hashicorp/aws" \{\s*version\s*=\s*"([^"]+)"', lock)
    assert version, "the lock file names no hashicorp/aws version"
    return schemas_from_terraform(json.loads(shown.stdout), version.group(1))


# --- Provider 6.x: the CDKTF bindings' JavaScript -----------------------------------------------------


def cdktf_wheel() -> Path:
    """The bindings' wheel, downloaded once (pip, no dependencies) into build/ (git-ignored)."""
    pattern = f"cdktf_cdktf_provider_aws-{CDKTF_VERSION}-*.whl"
    if not any(CDKTF_CACHE.glob(pattern)):
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "--dest",
            str(CDKTF_CACHE),
        ]
        subprocess.run([*command, f"{CDKTF_DISTRIBUTION}=={CDKTF_VERSION}"], check=True)
    return sorted(CDKTF_CACHE.glob(pattern))[0]


def cdktf_source_path(kind: str, type_: str) -> str:
    """Where the bindings keep a type: lib/sqs-queue, lib/data-aws-region, lib/provider."""
    if kind == "provider":
        return "package/lib/provider/index.js"
    stem = type_.removeprefix("aws_").replace("_", "-")
    return f"package/lib/{'data-aws-' if kind == 'data' else ''}{stem}/index.js"


def cdktf_schemas(wheel: Path, types: Iterable[tuple[str, str]]) -> ProviderSchemas:
    """The 6.x schemas of `types` (kind, type) from the bindings; a type they lack is left out."""
    wanted = {cdktf_source_path(kind, type_): (kind, type_) for kind, type_ in types}
    with (
        zipfile.ZipFile(wheel) as archive,
        tarfile.open(fileobj=io.BytesIO(archive.read(CDKTF_BUNDLE))) as bundle,
    ):
        package = json.loads(_member(bundle, "package/package.json"))
        sources = {wanted[m.name]: _member(bundle, m.name) for m in bundle if m.name in wanted}
    schemas = {key: block_from_cdktf(source) for key, source in sources.items() if _declares(source, key)}
    return ProviderSchemas(package["cdktf"]["provider"]["version"], schemas)


def _member(bundle: tarfile.TarFile, name: str) -> str:
    extracted = bundle.extractfile(name)
    assert extracted is not None, name
    return extracted.read().decode("utf-8")


def _declares(source: str, key: tuple[str, str]) -> bool:
    return f"terraformResourceType: '{key[1]}'" in source


def block_from_cdktf(source: str) -> Block:
    """A type's Block from its bindings: the main class's arguments and reads, nested blocks by converter."""
    main = MAIN_CLASS.search(source)
    assert main, "no Terraform resource, data source or provider class"
    body = source[main.end() : source.index(f"exports.{main.group(1)} = ", main.end())]
    arguments = body[body.index("synthesizeAttributes() {") : body.index("synthesizeHclAttributes() {")]
    block = _struct_block(source, arguments, depth=0)
    return Block(block.attributes | set(JS_READ.findall(body)), frozenset(), block.blocks)


def _struct_block(source: str, returned: str, depth: int) -> Block:
    """The keys a converter returns; a key converted by another local converter is a nested block."""
    keys = dict(JS_KEY.findall(returned))
    blocks = {}
    for name, converter in keys.items():
        start = source.find(f"\nfunction {converter}(struct) {{") if "." not in converter else -1
        if start >= 0 and depth < 8:
            text = source[start : source.index("\n}\n", start)]
            blocks[name] = _struct_block(source, text[text.index("return {") :], depth + 1)
    return Block(frozenset(keys), frozenset(), blocks)
