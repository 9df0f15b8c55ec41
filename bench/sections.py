"""The docs' figures written by `make bench`: each bench returns named markdown sections, written here.

A section `name` lives in one page of docs/ (or README.md) between `<!-- bench:name -->` and
`<!-- /bench:name -->`, beside the text that explains it: moving a section's text to another page moves
its markers with it, and the bench finds them there. The same text is kept in bench/results/<name>.md,
the bench's last written output, committed with the docs. tests/python/test_readme_bench.py fails when
the two differ or a marker is missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
        raise ValueError(f"needs exactly one <!-- bench:{name} --> ... <!-- /bench:{name} --> pair")
    return pattern.sub(lambda match: match.group(1) + content + match.group(2), text)


def pages(root: Path = ROOT) -> list[Path]:
    """The pages that may hold bench sections: docs/*.md, then README.md."""
    return [*sorted((root / "docs").glob("*.md")), root / "README.md"]


def page_of(name: str, texts: Mapping[Path, str]) -> Path:
    """The one page whose text holds the section `name`; ValueError when none or several do."""
    holding = [path for path, text in texts.items() if f"<!-- bench:{name} -->" in text]
    if len(holding) != 1:
        where = ", ".join(str(path) for path in holding) or "no page"
        raise ValueError(f"<!-- bench:{name} --> must be in exactly one page of docs/ or README.md: {where}")
    return holding[0]


def write_sections(sections: Mapping[str, str], root: Path = ROOT, results: Path = RESULTS) -> None:
    """Write every section into the page holding its markers, and into results/<name>.md.

    Every page is checked before any is written, so a missing marker changes nothing.
    """
    texts = {path: path.read_text(encoding="utf-8") for path in pages(root) if path.exists()}
    written = dict(texts)
    for name, content in sections.items():
        page = page_of(name, texts)
        written[page] = replace_section(written[page], name, content)
    results.mkdir(parents=True, exist_ok=True)
    for name, content in sections.items():
        (results / f"{name}.md").write_text(content)
    for path, text in written.items():
        if text != texts[path]:
            path.write_text(text, encoding="utf-8")
    shown = sorted({page_of(name, texts).relative_to(root).as_posix() for name in sections})
    print(f"bench sections written: {', '.join(sections)} into {', '.join(shown)} (copies in {results}/)")
