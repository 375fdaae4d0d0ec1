"""The study page's flow, driven through Streamlit's testing API: consent, every question of
every group answered -> the expected rows; a reload resumes; a changed answer overwrites."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from studyfactory import METHODS, make_study

from adm.study.design import QUESTIONS
from adm.study.votes import VoteStore, read_database

pytest.importorskip("streamlit", reason="the study page needs the study extra (streamlit)")
from streamlit.testing.v1 import AppTest  # noqa: E402

PAGE = Path(__file__).resolve().parents[1] / "adm/study/page.py"
TIMEOUT = 60  # seconds per script run (a shared 2-core machine)


@pytest.fixture
def study(tmp_path, monkeypatch):
    manifest = make_study(tmp_path / "materials", groups=3)
    votes = tmp_path / "votes.sqlite"
    monkeypatch.setattr(
        sys, "argv", [str(PAGE), "--manifest", str(manifest), "--votes", str(votes)]
    )
    return manifest, votes


def _open(pid: str | None = None) -> AppTest:
    """A fresh browser session (a first visit, or a reload when ``pid`` is in the address)."""
    at = AppTest.from_file(str(PAGE), default_timeout=TIMEOUT)
    if pid is not None:
        at.query_params["pid"] = pid
    return at.run()


def _start() -> tuple[AppTest, str]:
    at = _open()
    assert not at.exception
    assert at.button[0].disabled  # no start without consent
    at.checkbox[0].check().run()
    at.button[0].click().run()
    pid = at.query_params["pid"]
    return at, pid


def _group_shown(at: AppTest) -> int:
    title = at.subheader[0].value  # "Group i of N"
    return int(title.split()[1])


def _answer_group(at: AppTest, labels: dict[str, str]) -> AppTest:
    for question, label in labels.items():
        at.radio(key=_key(at, question)).set_value(label).run()
    return at


def _key(at: AppTest, question: str) -> str:
    keys = [r.key for r in at.radio if r.key.endswith(f":{question}")]
    assert len(keys) == 1
    return keys[0]


def _next(at: AppTest) -> AppTest:
    button = [b for b in at.button if b.label in ("Next", "Finish")][0]
    assert not button.disabled
    return button.click().run()


def test_answer_everything_gives_one_row_per_group_and_question(study):
    manifest, votes = study
    at, pid = _start()
    store = VoteStore(votes)
    plan = store.plan(pid)
    assert plan is not None and sorted(plan.groups) == ["g01", "g02", "g03"]
    chosen = {}
    for step in range(3):
        assert _group_shown(at) == step + 1
        group = plan.groups[step]
        assert len(at.get("video")) == len(METHODS)
        nav = [b for b in at.button if b.label in ("Next", "Finish")][0]
        assert nav.disabled  # not before the three answers
        labels = dict(zip(QUESTIONS, ["A", "B", "C"], strict=True))
        _answer_group(at, labels)
        for question, label in labels.items():
            chosen[(group, question)] = plan.method_of(group, label)
        at = _next(at)
    assert at.title[0].value == "Thank you"
    rows, methods = read_database(votes)
    assert methods == METHODS
    assert len(rows) == 3 * len(QUESTIONS)
    assert {(r["group_id"], r["question"]): r["method"] for r in rows} == chosen
    # Label A is the first video shown, B the second, C the third.
    assert {r["question"]: r["position"] for r in rows} == {"gestures": 0, "face": 1, "overall": 2}


def test_reload_resumes_at_the_first_open_group_with_answers_shown(study):
    _, votes = study
    at, pid = _start()
    plan = VoteStore(votes).plan(pid)
    _answer_group(at, dict.fromkeys(QUESTIONS, "B"))
    at = _next(at)
    _answer_group(at, {"gestures": "C"})  # second group half answered

    reloaded = _open(pid)
    assert not reloaded.exception
    assert _group_shown(reloaded) == 2  # the first group with an open question
    second = plan.groups[1]
    values = {r.key.split(":")[1]: r.value for r in reloaded.radio}
    assert values == {"gestures": "C", "face": None, "overall": None}
    # Back to the first group: its stored answers are shown under the same labels.
    [b for b in reloaded.button if b.label == "Previous"][0].click().run()
    assert _group_shown(reloaded) == 1
    assert {r.value for r in reloaded.radio} == {"B"}
    assert len(VoteStore(votes).answers(pid)) == len(QUESTIONS) + 1
    assert (second, "gestures") in VoteStore(votes).answers(pid)


def test_changed_answer_overwrites(study):
    _, votes = study
    at, pid = _start()
    plan = VoteStore(votes).plan(pid)
    group = plan.groups[0]
    key = _key(at, "face")
    for label in ("A", "C", "B"):
        at.radio(key=key).set_value(label).run()
    rows, _ = read_database(votes)
    assert len(rows) == 1
    assert rows[0]["method"] == plan.method_of(group, "B")
    # ... and again after a reload.
    reloaded = _open(pid)
    reloaded.radio(key=_key(reloaded, "face")).set_value("A").run()
    rows, _ = read_database(votes)
    assert [r["method"] for r in rows] == [plan.method_of(group, "A")]


def test_unknown_participant_in_address_gets_the_consent_page(study):
    at = _open("not-a-participant")
    assert not at.exception
    assert at.checkbox[0].label.startswith("I agree")
