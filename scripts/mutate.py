"""Mutation testing of the handler (`make mutate`): how many deliberate bugs the unit tests catch.

Why mutmut (3.x, from PyPI): it installs offline from the package index here, runs on this machine's
Python 3.11 and needs no extra service (cosmic-ray wants a session database and runs a fresh
interpreter per mutant; pytest-gremlins has no string or argument mutations). mutmut forks each mutant
from one warm pytest process and runs only the tests that reached the mutated function, on 2 workers.
It mutates function and method bodies only: module-level constants (INVALIDATING_PREFIXES, the client
configuration) and decorated functions are not mutated, so the tests that guard those were checked
with hand-made mutants (see docs/development.md).

mutmut names a mutant by its file path, and strips only a `src/` prefix from it, while the tests import
the package as `cf_invalidator` (pyproject's pythonpath). So the run happens in build/mutate: the
handler copied to src/cf_invalidator, the unit tests and the module's *.tf (the tests read the
defaults there), and a pyproject whose pytest pythonpath names src. The end-to-end tests are not run.
The property tests run with the hypothesis profile "mutation" (tests/python/conftest.py): the same number
of examples as in `make test`, without the shrink phase, since the first failing example kills a mutant.

Every surviving mutant must be judged: scripts/mutation_survivors.toml says, per function, why its
survivors are equivalent or harmless. After a complete run docs/development.md's section between
`<!-- mutate:survivors -->` and `<!-- /mutate:survivors -->` is rewritten from the run (the score, and
one row per function with its surviving mutants and that reason); a function with survivors and no
reason is shown as not judged, and the script exits 2.

Usage: mutate.py            (runs mutmut; prints every surviving mutant, then the score and the duration)
       mutate.py --report   (the same report and docs section from the last run, e.g. after adding reasons)
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / "build" / "mutate"
SURVIVORS_PAGE = ROOT / "docs" / "development.md"
REASONS = ROOT / "scripts" / "mutation_survivors.toml"
SECTION = re.compile(r"(<!-- mutate:survivors -->\n).*?(<!-- /mutate:survivors -->)", re.DOTALL)
# cf_invalidator.[<sub-package>.]<module>.x_<function>__mutmut_<n>, or .xǁ<Class>ǁ<method>__mutmut_<n>
# for a method. A function is named <module>.<function> without its sub-package (core, aws, pipeline):
# module names are unique across them, and scripts/mutation_survivors.toml's reasons are keyed so.
MUTANT = re.compile(r"cf_invalidator\.(?:(?:core|aws|pipeline)\.)?(\w+)\.x(?:ǁ(\w+)ǁ|_)(\w+)__mutmut_(\d+)")
WORKERS = 2
# The fast tests that exercise lambda_src (no Terraform, no moto server).
UNIT_TESTS = [
    "test_batch.py",
    "test_coalesce.py",
    "test_config.py",
    "test_detect.py",
    "test_detect_properties.py",
    "test_events.py",
    "test_faults.py",
    "test_fit.py",
    "test_handler.py",
    "test_history.py",
    "test_in_progress.py",
    "test_invalidate.py",
    "test_log_lines.py",
    "test_paths.py",
    "test_plan.py",
    "test_properties.py",
    "test_quota_storm.py",
    "test_redelivery.py",
]
MUTMUT_CONFIG = f"""
[tool.mutmut]
source_paths = ["src/cf_invalidator/"]
also_copy = ["main.tf", "variables.tf"]
pytest_add_cli_args = ["--hypothesis-profile=mutation"]
pytest_add_cli_args_test_selection = {json.dumps([f"tests/python/{name}" for name in UNIT_TESTS])}
"""


def stage() -> None:
    """Lay out build/mutate as described above."""
    shutil.rmtree(STAGE, ignore_errors=True)
    shutil.copytree(ROOT / "lambda_src", STAGE / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(
        ROOT / "tests" / "python", STAGE / "tests" / "python", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("main.tf", "variables.tf"):
        shutil.copy2(ROOT / name, STAGE / name)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pyproject, replaced = re.subn(r'pythonpath = \["lambda_src",', 'pythonpath = ["src",', pyproject)
    if replaced != 1:
        raise SystemExit(
            'pyproject.toml: expected pythonpath = ["lambda_src", ...] under [tool.pytest.ini_options]'
        )
    (STAGE / "pyproject.toml").write_text(pyproject + MUTMUT_CONFIG, encoding="utf-8")


def mutmut(*args: str) -> subprocess.CompletedProcess[str]:
    executable = Path(sys.executable).parent / "mutmut"
    return subprocess.run([str(executable), *args], cwd=STAGE, capture_output=True, text=True, check=False)


def survivors_by_function(results: Iterable[str]) -> dict[str, list[str]]:
    """`mutmut results` lines (`<mutant>: <status>`, killed ones left out) -> function -> mutant numbers,
    each followed by its status when that is not "survived" (e.g. "no tests")."""
    found: defaultdict[str, list[tuple[int, str]]] = defaultdict(list)
    for line in results:
        name, _, status = line.strip().rpartition(": ")
        match = MUTANT.fullmatch(name)
        if match is None or status == "timeout":  # a timeout counts as caught
            continue
        module, cls, function, number = match.groups()
        found[".".join(part for part in (module, cls, function) if part)].append((int(number), status))
    return {
        function: [f"{n}" if status == "survived" else f"{n} ({status})" for n, status in sorted(mutants)]
        for function, mutants in sorted(found.items())
    }


def survivors_section(summary: str, survivors: Mapping[str, list[str]], reasons: Mapping[str, str]) -> str:
    rows = [
        f"| `{function}` | {', '.join(numbers)} | {reasons.get(function, '**not judged yet**')} |"
        for function, numbers in survivors.items()
    ]
    header = [
        "| Function | Surviving mutants "
        "(`mutmut show cf_invalidator.<package>.<module>.x_<function>__mutmut_<n>`) | Why they are left |",
        "|---|---|---|",
    ]
    return "\n".join([summary, "", *header, *rows]) + "\n"


def write_survivors_page(section: str) -> None:
    text = SURVIVORS_PAGE.read_text(encoding="utf-8")
    if len(SECTION.findall(text)) != 1:
        raise SystemExit(
            f"{SURVIVORS_PAGE} needs one <!-- mutate:survivors --> ... <!-- /mutate:survivors --> pair"
        )
    SURVIVORS_PAGE.write_text(
        SECTION.sub(lambda m: m.group(1) + section + m.group(2), text), encoding="utf-8"
    )


def run() -> float | None:
    """Stage and run mutmut; the seconds it took, or None when it failed (its output is printed)."""
    started = time.monotonic()
    stage()
    ran = mutmut("run", "--max-children", str(WORKERS))
    elapsed = time.monotonic() - started
    if ran.returncode != 0:
        print(ran.stdout[-4000:], ran.stderr[-4000:], sep="\n")
        return None
    (STAGE / "elapsed_s").write_text(f"{elapsed:.0f}\n", encoding="utf-8")
    return elapsed


def report(elapsed: float) -> int:
    """Print the last run's survivors and score, and write them into docs/development.md."""
    stats_written = mutmut("export-cicd-stats")
    stats_file = STAGE / "mutants" / "mutmut-cicd-stats.json"
    if stats_written.returncode != 0 or not stats_file.exists():
        print(stats_written.stdout[-2000:], stats_written.stderr[-2000:], sep="\n")
        return 1
    stats = json.loads(stats_file.read_text(encoding="utf-8"))
    survivors = [line.strip() for line in mutmut("results").stdout.splitlines() if line.strip()]
    print(*survivors, sep="\n")
    judged = stats["killed"] + stats["survived"] + stats["timeout"] + stats["suspicious"]
    caught = stats["killed"] + stats["timeout"]
    print(
        f"mutants: {stats['total']}, killed {stats['killed']}, survived {stats['survived']}, "
        f"timeout {stats['timeout']}, suspicious {stats['suspicious']}, no tests {stats['no_tests']}, "
        f"skipped {stats['skipped']}"
    )
    score = f"{100 * caught / max(judged, 1):.1f}%"
    print(f"mutation score: {score} ({caught}/{judged}) in {elapsed:.0f} s")
    print(f"inspect one: cd {STAGE.relative_to(ROOT)} && ../../.venv/bin/mutmut show <name>")
    summary = (
        f"Its last run: {stats['total']} mutants, {stats['killed']} killed, {stats['survived']} survived, "
        f"{stats['timeout']} timed out (caught), {stats['no_tests']} reached by no test: a score of {score} "
        f"({caught}/{judged}), in {elapsed:.0f} s ({WORKERS} workers, on a machine shared with other jobs)."
    )
    return write_survivors(summary, survivors_by_function(survivors))


def write_survivors(summary: str, by_function: Mapping[str, list[str]]) -> int:
    """Write the docs section; 2 when a function's survivors have no reason yet."""
    reasons = tomllib.loads(REASONS.read_text(encoding="utf-8"))["reasons"]
    write_survivors_page(survivors_section(summary, by_function, reasons))
    print(f"docs/development.md: survivors of {len(by_function)} functions written")
    unused = [function for function in reasons if function not in by_function]
    if unused:
        print(f"reasons for functions with no survivor left (remove them): {', '.join(unused)}")
    unjudged = [function for function in by_function if function not in reasons]
    if unjudged:
        print(f"no reason in {REASONS.relative_to(ROOT)} for: {', '.join(unjudged)}")
        return 2
    return 0


def main(args: list[str]) -> int:
    if args == ["--report"]:  # the last run again, e.g. after writing reasons: no new run
        return report(float((STAGE / "elapsed_s").read_text(encoding="utf-8")))
    elapsed = run()
    return 1 if elapsed is None else report(elapsed)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
