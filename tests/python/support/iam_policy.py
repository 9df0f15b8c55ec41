"""An IAM policy evaluator written from AWS's policy evaluation logic (IAM User Guide: "Policy evaluation
logic", "IAM JSON policy elements"), for one principal's identity-based policies and permissions boundary.

- A request is allowed only when some Allow statement of the identity policies matches it and no Deny
  statement of any policy does (an explicit deny wins; no match is an implicit deny).
- With a permissions boundary, the boundary must also allow it: the effective permissions are the
  intersection of the two.
- A statement matches when its Action (or NotAction) and its Resource (or NotResource) match and every
  condition holds. `*` matches any run of characters and `?` one; actions compare without regard to case,
  resources with it.
- Conditions: every operator block must hold, every key within it, any value of a key (OR). Supported
  operators: StringEquals, StringNotEquals, StringLike, ArnEquals, ArnLike; a key absent from the request
  makes the condition false. Any other operator raises, so a policy the evaluator cannot judge fails the
  test loudly instead of passing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

ALLOW, DENY = "Allow", "Deny"


class Decision(Enum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitly denied"
    IMPLICIT_DENY = "not allowed by any statement"
    BOUNDARY_DENY = "not allowed by the permissions boundary"


class UnsupportedPolicyError(ValueError):
    """The policy uses an element or operator this evaluator does not judge."""


@dataclass(frozen=True)
class Request:
    action: str  # e.g. "s3:GetObjectVersion"
    resource: str  # the ARN
    context: Mapping[str, str] = field(default_factory=dict)  # condition keys, e.g. kms:ViaService


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _pattern(text: str, *, ignore_case: bool) -> re.Pattern[str]:
    escaped = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(f"^{escaped}$", re.IGNORECASE if ignore_case else 0)


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return bool(_pattern(pattern, ignore_case=ignore_case).match(value))


def _element(statement: Mapping[str, Any], name: str, value: str, *, ignore_case: bool) -> bool:
    if name in statement:
        return any(matches(p, value, ignore_case=ignore_case) for p in _listed(statement[name]))
    negated = f"Not{name}"
    if negated in statement:
        return not any(matches(p, value, ignore_case=ignore_case) for p in _listed(statement[negated]))
    raise UnsupportedPolicyError(f"statement without {name} or {negated}: {statement}")


def _condition_holds(condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]) -> bool:
    lowered = {key.lower(): value for key, value in context.items()}
    for operator, keys in condition.items():
        for key, expected in keys.items():
            actual = lowered.get(key.lower())
            if actual is None:
                return False
            values = _listed(expected)
            if operator in ("StringEquals", "ArnEquals"):
                holds = actual in values
            elif operator == "StringNotEquals":
                holds = actual not in values
            elif operator in ("StringLike", "ArnLike"):
                holds = any(matches(v, actual) for v in values)
            else:
                raise UnsupportedPolicyError(f"condition operator {operator} is not supported")
            if not holds:
                return False
    return True


def statement_matches(statement: Mapping[str, Any], request: Request) -> bool:
    return (
        _element(statement, "Action", request.action, ignore_case=True)
        and _element(statement, "Resource", request.resource, ignore_case=False)
        and _condition_holds(statement.get("Condition", {}), request.context)
    )


def statements(policies: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every statement of the policy documents (a lone statement object counts as a list of one)."""
    found: list[Mapping[str, Any]] = []
    for policy in policies:
        body = policy["Statement"]
        found.extend([body] if isinstance(body, dict) else body)
    return found


def _allows(policies: Sequence[Mapping[str, Any]], request: Request) -> bool:
    return any(s["Effect"] == ALLOW and statement_matches(s, request) for s in statements(policies))


def _denies(policies: Sequence[Mapping[str, Any]], request: Request) -> bool:
    return any(s["Effect"] == DENY and statement_matches(s, request) for s in statements(policies))


def evaluate(
    identity: Sequence[Mapping[str, Any]], request: Request, boundary: Mapping[str, Any] | None = None
) -> Decision:
    """The decision for `request` by the principal's identity policies and permissions boundary."""
    every = [*identity, *([] if boundary is None else [boundary])]
    if _denies(every, request):
        return Decision.EXPLICIT_DENY
    if not _allows(identity, request):
        return Decision.IMPLICIT_DENY
    if boundary is not None and not _allows([boundary], request):
        return Decision.BOUNDARY_DENY
    return Decision.ALLOWED


def granted(identity: Sequence[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """(statement Sid, action) for every action an Allow statement grants."""
    return {
        (str(s.get("Sid", "")), action)
        for s in statements(identity)
        if s["Effect"] == ALLOW
        for action in _listed(s.get("Action", []))
    }


def granting(identity: Sequence[Mapping[str, Any]], request: Request) -> set[tuple[str, str]]:
    """(Sid, action) of the Allow statements and actions that match `request`: what it exercises."""
    return {
        (str(s.get("Sid", "")), action)
        for s in statements(identity)
        if s["Effect"] == ALLOW and statement_matches(s, request)
        for action in _listed(s.get("Action", []))
        if matches(action, request.action, ignore_case=True)
    }
