"""Per-field accuracy of the note parser over the labelled corpora (misses are printed).

"main" and "tuned" must meet issue 13's targets. "heldout" was written together with "tuned" and never tuned
on: its figure is what to expect on notes nobody has seen, so it is held to a floor a little under the targets
(a few misses in 181 notes) rather than tuned until it passes.
"""

from __future__ import annotations

import pytest

from tests.unit.understanding.corpus import load, score

TARGETS = {"customer": 0.98, "contact": 0.95, "due": 0.98, "amounts": 0.97, "kind": 0.90}
HELD_OUT_FLOOR = {"customer": 0.95, "contact": 0.92, "due": 0.95, "amounts": 0.94}


def test_corpora_are_large_and_balanced():
    rows, _ = load("main")
    assert len(rows) >= 300
    assert {"zh-Hant", "zh-Hans", "en", "mixed"} <= {row["group"] for row in rows}
    for corpus in ("tuned", "heldout"):
        rows, _ = load(corpus)
        assert len(rows) >= 75
        assert {"tw", "hk", "cn", "cnTW", "en"} <= {row["group"] for row in rows}
    tuned = {row["note"] for row in load("tuned")[0]}
    assert not tuned & {row["note"] for row in load("heldout")[0]}


def _report(corpus: str, accuracy: dict[str, float], misses: list[str], capsys) -> None:
    with capsys.disabled():
        print(f"\nnote parser accuracy ({corpus}): " + ", ".join(f"{k} {v:.1%}" for k, v in accuracy.items()))
        for miss in misses:
            print("  miss:", miss)


@pytest.mark.parametrize("corpus", ["main", "tuned"])
def test_parser_meets_the_accuracy_targets(corpus, capsys):
    accuracy, misses = score(corpus)
    _report(corpus, accuracy, misses, capsys)
    failed = {name: f"{accuracy[name]:.1%} < {target:.0%}" for name, target in TARGETS.items()
              if name in accuracy and accuracy[name] < target}
    assert not failed, failed


def test_held_out_notes_stay_above_the_floor(capsys):
    accuracy, misses = score("heldout")
    _report("heldout", accuracy, misses, capsys)
    failed = {name: f"{accuracy[name]:.1%} < {floor:.0%}" for name, floor in HELD_OUT_FLOOR.items()
              if accuracy[name] < floor}
    assert not failed, failed
