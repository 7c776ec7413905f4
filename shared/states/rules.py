"""Retry and Catch (cloudflow-reference.md §1.6, DESIGN.md §3), for Task, Parallel and Map.

Retry rules are tried in order and the first whose ``Errors`` match applies, each rule
counting its own retries. ``MaxAttempts`` counts retries after the first attempt. The
delay before retry n is ``min(IntervalSeconds × BackoffRate^(n−1), MaxBackoffSeconds)``;
an omitted ``BackoffRate`` means a constant interval. When no retry applies, Catch rules
are tried in order; the next state's input is the Catch's OutputConstructor result or
``{"Code", "Detail"}``. ``FnF.ALL`` matches every error; the timeout of the whole
execution never reaches these rules (the engines end the execution directly).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from shared import errors
from shared.context import RunContext
from shared.errors import FlowError
from shared.fdl.problems import Loc
from shared.limits import STANDARD_MAX_SECONDS
from shared.outcomes import Advance, Failed, RetryAfter
from shared.states.base import INPUT_VARIABLES, CompileContext, StateBase, StateFailure
from shared.templates import Template

__all__ = ["CatchRule", "RetryRule", "RulesState", "compile_rules"]

RETRY_FIELDS: Final = frozenset(
    {"Errors", "Description", "MaxAttempts", "IntervalSeconds", "BackoffRate", "MaxBackoffSeconds"}
)
CATCH_FIELDS: Final = frozenset({"Errors", "Description", "Next", "OutputConstructor"})
MAX_RETRY_ATTEMPTS: Final = 1000


@dataclass(frozen=True, slots=True)
class RetryRule:
    """One Retry entry, ready to match."""

    errors: frozenset[str]
    matches_all: bool
    max_attempts: int
    interval_seconds: float
    backoff_rate: float = 1.0
    max_backoff_seconds: float | None = None

    def matches(self, code: str) -> bool:
        return self.matches_all or code in self.errors

    def delay(self, retry_number: int) -> float:
        """Seconds to wait before retry ``retry_number`` (1 for the first retry).

        Never more than a Standard execution may last: a longer back-off could only end
        in the execution's own timeout, and the engines' timers need finite instants.
        """
        if self.interval_seconds == 0:
            return 0.0
        try:
            delay = self.interval_seconds * self.backoff_rate ** (retry_number - 1)
        except OverflowError:  # BackoffRate 100 and MaxAttempts 1000 reach 1e1998
            delay = math.inf
        if self.max_backoff_seconds is not None:
            delay = min(delay, self.max_backoff_seconds)
        return min(delay, float(STANDARD_MAX_SECONDS))


@dataclass(frozen=True, slots=True)
class CatchRule:
    """One Catch entry: where to go, and how to build the next state's input."""

    errors: frozenset[str]
    matches_all: bool
    next: int | None
    output_constructor: Template | None

    def matches(self, code: str) -> bool:
        return self.matches_all or code in self.errors


@dataclass(frozen=True, slots=True, kw_only=True)
class RulesState(StateBase):
    """A state that accepts Retry and Catch."""

    has_rules = True

    retry: tuple[RetryRule, ...] = ()
    catch: tuple[CatchRule, ...] = ()

    def recover(
        self, state_input: Any, error: FlowError, run: RunContext, retries: tuple[int, ...]
    ) -> RetryAfter | Advance | Failed:
        if not retries:
            retries = (0,) * len(self.retry)
        for position, rule in enumerate(self.retry):
            if rule.matches(error.code):
                used = retries[position]
                if used < rule.max_attempts:
                    counts = (*retries[:position], used + 1, *retries[position + 1 :])
                    return RetryAfter(rule.delay(used + 1), counts)
                break  # the first matching rule decides; exhausted means no retry
        for catch in self.catch:
            if catch.matches(error.code):
                return self._catch(catch, state_input, error, run, sum(retries))
        return Failed(error)

    def _catch(
        self, rule: CatchRule, state_input: Any, error: FlowError, run: RunContext, retry_count: int
    ) -> Advance | Failed:
        if rule.output_constructor is None:
            return Advance(error.as_catch_output(), rule.next)
        error_value = {"Code": error.code, "Detail": error.cause}
        variables: Mapping[str, Any] = {
            "$Input": state_input,
            "$Global": run.globals,
            "$Context": run.context_value(self.name, state_input, retry_count, error=error_value),
        }
        try:
            output = self._build(rule.output_constructor, "Catch.OutputConstructor", variables, run)
            self._check_size(output, "output", run.limits)
        except StateFailure as failure:
            return Failed(failure.error)
        return Advance(output, rule.next)


def compile_rules(node: Mapping[str, Any], loc: Loc, cx: CompileContext) -> dict[str, Any]:
    """Compile ``Retry`` and ``Catch`` into keyword arguments for a RulesState."""
    return {"retry": _compile_retry(node, loc, cx), "catch": _compile_catch(node, loc, cx)}


def _errors(
    rule: Mapping[str, Any], loc: Loc, cx: CompileContext, is_last: bool
) -> tuple[frozenset[str], bool]:
    names = cx.problems.string_list(rule, "Errors", loc) or []
    matches_all = errors.ALL in names
    if matches_all and len(names) > 1:
        cx.problems.add(
            loc.key("Errors"),
            f"{errors.ALL} matches every error: it must be the only name in its rule",
        )
    if matches_all and not is_last:
        cx.problems.add(
            loc.key("Errors"),
            f"a rule with {errors.ALL} must be the last one: the rules after it can never apply",
        )
    return frozenset(names), matches_all


def _rule_list(
    node: Mapping[str, Any], key: str, loc: Loc, cx: CompileContext
) -> list[tuple[Loc, dict[str, Any]]]:
    if key not in node:
        return []
    value = node[key]
    if not isinstance(value, list):
        cx.problems.add(loc.key(key), "must be a list of rules")
        return []
    result = []
    for position, item in enumerate(value):
        item_loc = loc.key(key).index(position)
        rule = cx.problems.mapping(item, item_loc, "a rule (a mapping)")
        if rule is not None:
            result.append((item_loc, rule))
    return result


def _compile_retry(node: Mapping[str, Any], loc: Loc, cx: CompileContext) -> tuple[RetryRule, ...]:
    problems = cx.problems
    limit = cx.limits.max_retry_interval_seconds
    entries = _rule_list(node, "Retry", loc, cx)
    rules = []
    for position, (rule_loc, rule) in enumerate(entries):
        problems.fields(
            rule,
            rule_loc,
            RETRY_FIELDS,
            ("Errors", "MaxAttempts", "IntervalSeconds"),
            "a Retry rule",
        )
        names, matches_all = _errors(rule, rule_loc, cx, position == len(entries) - 1)
        problems.string(rule, "Description", rule_loc, non_empty=False)
        attempts = problems.integer(
            rule, "MaxAttempts", rule_loc, minimum=0, maximum=MAX_RETRY_ATTEMPTS
        )
        interval = problems.number(rule, "IntervalSeconds", rule_loc, minimum=0, maximum=limit)
        rate = problems.number(rule, "BackoffRate", rule_loc, minimum=1.0, maximum=100.0)
        cap = problems.number(rule, "MaxBackoffSeconds", rule_loc, minimum=0, maximum=limit)
        rules.append(
            RetryRule(
                errors=names,
                matches_all=matches_all,
                max_attempts=attempts or 0,
                interval_seconds=interval or 0.0,
                backoff_rate=1.0 if rate is None else rate,
                max_backoff_seconds=cap,
            )
        )
    return tuple(rules)


def _compile_catch(node: Mapping[str, Any], loc: Loc, cx: CompileContext) -> tuple[CatchRule, ...]:
    problems = cx.problems
    entries = _rule_list(node, "Catch", loc, cx)
    rules = []
    for position, (rule_loc, rule) in enumerate(entries):
        problems.fields(rule, rule_loc, CATCH_FIELDS, ("Errors", "Next"), "a Catch rule")
        names, matches_all = _errors(rule, rule_loc, cx, position == len(entries) - 1)
        problems.string(rule, "Description", rule_loc, non_empty=False)
        target = cx.resolve(rule["Next"], rule_loc.key("Next")) if "Next" in rule else None
        if "Next" not in rule:
            cx.broken_transitions += 1
        constructor = cx.constructor(rule, "OutputConstructor", rule_loc, INPUT_VARIABLES)
        rules.append(CatchRule(names, matches_all, target, constructor))
    return tuple(rules)
