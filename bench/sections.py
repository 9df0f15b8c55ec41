"""README figures written by `make bench`: each bench returns named markdown sections, written here.

A section `name` lives in README.md between `<!-- bench:name -->` and `<!-- /bench:name -->`, and the
same text is kept in bench/results/<name>.md, the bench's last written output, committed with the
README. tests/python/test_readme_bench.py fails when the two differ or a marker is missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
RESULTS = ROOT / "bench" / "results"


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    """A GitHub markdown table; `align` holds one letter per column: "l"eft or "r"ight."""
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = [columns, rule, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines) + "\n"


def replace_section(text: str, name: str, content: str) -> str:
    """`text` with the section `name` holding `content`; ValueError when its markers are not there once."""
    pattern = re.compile(
        rf"(<!-- bench:{re.escape(name)} -->\n).*?(<!-- /bench:{re.escape(name)} -->)", re.DOTALL
    )
    if len(pattern.findall(text)) != 1:
        raise ValueError(f"README.md needs exactly one <!-- bench:{name} --> ... <!-- /bench:{name} --> pair")
    return pattern.sub(lambda match: match.group(1) + content + match.group(2), text)


def write_sections(sections: Mapping[str, str], readme: Path = README, results: Path = RESULTS) -> None:
    """Write every section into the README (between its markers) and into results/<name>.md."""
    text = readme.read_text()
    for name, content in sections.items():
        text = replace_section(text, name, content)
    results.mkdir(parents=True, exist_ok=True)
    for name, content in sections.items():
        (results / f"{name}.md").write_text(content)
    readme.write_text(text)
    print(f"README.md sections written: {', '.join(sections)} (copies in {results.relative_to(ROOT)}/)")
