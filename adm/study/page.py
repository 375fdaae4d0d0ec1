"""The study page (Streamlit): consent, then one group of videos per page with the paper's
three questions, each answer saved the moment it is given.

Run through ``adm study serve --manifest M --votes DB``, which starts::

    streamlit run adm/study/page.py -- --manifest M --votes DB

Flow: a consent line and a start button; the participant then gets a random id (no name,
e-mail or address is asked or stored) and a random plan (group order, method order per group),
both recorded in the votes database. The id is kept in the page address (``?pid=...``), so a
reload, or coming back later with the same address, resumes at the first group with an
unanswered question, with the answers given so far shown. Choosing another answer replaces
the stored one (one row per participant, group and question).
"""

from __future__ import annotations

import argparse
import secrets
import sys

import numpy as np
import streamlit as st

from adm.study.design import QUESTIONS, Manifest, Plan, blind_labels, load_manifest, random_plan
from adm.study.votes import VoteStore

CONSENT = (
    "I agree to take part in this study. I understand that my answers are stored under a "
    "random id, without my name or any contact details, and are used only for research."
)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="adm study page")
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--votes", required=True)
    return parser.parse_args(sys.argv[1:])


@st.cache_resource
def _study(manifest_path: str, votes_path: str) -> tuple[Manifest, VoteStore]:
    """The manifest, checked once per server, and the votes database, created if new."""
    manifest = load_manifest(manifest_path)
    store = VoteStore(votes_path)
    store.create(manifest.methods)
    return manifest, store


def _save(store: VoteStore, participant: str, plan: Plan, group_id: str, question: str) -> None:
    label = st.session_state[f"{group_id}:{question}"]
    if label is not None:
        store.record(participant, group_id, question, plan.method_of(group_id, label))


def _first_open(plan: Plan, answers: dict) -> int:
    """Index (in the participant's order) of the first group with an unanswered question;
    ``len(plan.groups)`` when everything is answered."""
    for index, group_id in enumerate(plan.groups):
        if any((group_id, q) not in answers for q in QUESTIONS):
            return index
    return len(plan.groups)


def _consent(manifest: Manifest, store: VoteStore) -> None:
    st.title("Co-speech motion: a short study")
    st.write(
        f"You will see {len(manifest.groups)} groups of {len(manifest.methods)} short videos. "
        "In each group the same speech is animated by different models, shown in a random "
        "order as " + ", ".join(blind_labels(len(manifest.methods))) + ". Please watch them "
        "with sound and answer three questions per group."
    )
    agreed = st.checkbox(CONSENT, key="consent")
    if st.button("Start", disabled=not agreed, type="primary"):
        participant = secrets.token_hex(6)
        plan = random_plan(
            [g.id for g in manifest.groups], manifest.methods, np.random.default_rng()
        )
        store.register(participant, plan)
        st.query_params["pid"] = participant
        st.session_state.pop("page", None)
        st.rerun()


def _group_page(manifest: Manifest, store: VoteStore, participant: str, plan: Plan) -> None:
    answers = store.answers(participant)
    total = len(plan.groups)
    if "page" not in st.session_state:  # a new session (first visit or reload): resume
        st.session_state.page = _first_open(plan, answers)
    page = st.session_state.page
    done = sum(all((g, q) in answers for q in QUESTIONS) for g in plan.groups)
    st.progress(done / total, text=f"{done} of {total} groups answered")
    if page >= total:
        st.title("Thank you")
        st.write("All your answers are saved. You may close this page.")
        st.caption(f"Participant id: {participant}")
        if st.button("Review my answers"):
            st.session_state.page = 0
            st.rerun()
        return

    group_id = plan.groups[page]
    group = manifest.group(group_id)
    order = plan.orders[group_id]
    labels = blind_labels(len(order))
    st.subheader(f"Group {page + 1} of {total}")
    for label, column, method in zip(labels, st.columns(len(order)), order, strict=True):
        with column:
            st.markdown(f"**{label}**")
            st.video(str(manifest.video_path(group, method)))
    for question, text in QUESTIONS.items():
        stored = answers.get((group_id, question))
        st.radio(
            text,
            labels,
            index=None if stored is None else order.index(stored),
            key=f"{group_id}:{question}",
            horizontal=True,
            on_change=_save,
            args=(store, participant, plan, group_id, question),
        )
    # The radios' callbacks save before the script reruns, so `answers` is up to date.
    complete = all((group_id, q) in answers for q in QUESTIONS)
    back, forward = st.columns(2)
    if back.button("Previous", disabled=page == 0):
        st.session_state.page = page - 1
        st.rerun()
    last = page == total - 1
    if forward.button("Finish" if last else "Next", disabled=not complete, type="primary"):
        # Groups are answered in order (Next needs the three answers), so after the last
        # group everything is answered and this leads to the end.
        st.session_state.page = page + 1 if not last else _first_open(plan, answers)
        st.rerun()
    if not complete:
        st.caption("Answer the three questions to go on.")


def app() -> None:
    args = _arguments()
    st.set_page_config(page_title="Co-speech motion study", layout="wide")
    manifest, store = _study(args.manifest, args.votes)
    participant = st.query_params.get("pid")
    plan = store.plan(participant) if participant else None
    if plan is None:
        _consent(manifest, store)
    else:
        _group_page(manifest, store, participant, plan)


# Streamlit runs this file as __main__; a process spawned from one that ran it (multiprocessing
# re-imports the main module as __mp_main__) must not draw the page.
if __name__ == "__main__":
    app()
