"""The house rules `sluice bundle verify` applies to each DAG's page in the UI (``doc_md``)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from sluice.bundle.inspect import dag_problems

TASK = SimpleNamespace(task_id="only", owner="data-platform", retries=2)
DOC = "### Export\n\nParam `day`: the day to export. Backfill to export past days."


def dag(doc_md: str | None = DOC, params: tuple[str, ...] = ("day",)) -> SimpleNamespace:
    return SimpleNamespace(
        dag_id="export", tags=["sluice"], doc_md=doc_md, params=dict.fromkeys(params), tasks=[TASK]
    )


def test_a_documented_dag_follows_the_rules():
    assert dag_problems(dag()) == []


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (dag(doc_md=None), "export: no doc_md (its page in the UI)"),
        (dag(doc_md="  \n"), "export: no doc_md (its page in the UI)"),
        (dag(params=("day", "source")), "export: doc_md does not explain the param `source`"),
        (
            dag(doc_md="### Export\n\nParam `day`: the day."),
            "export: doc_md does not say whether or how to backfill it",
        ),
    ],
    ids=["none", "blank", "param-left-out", "no-backfill-word"],
)
def test_a_dag_page_that_leaves_something_out_is_named(broken, problem):
    assert dag_problems(broken) == [problem]
