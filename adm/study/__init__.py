"""The user study of the paper's section 2.5: materials, the study page, votes and analysis.

- :mod:`.design`: the questions, blind labels, groups, the manifest and each participant's plan.
- :mod:`.votes`: the SQLite votes database (one answer per participant, group and question).
- :mod:`.analysis`: chi-square tests against equal preference, position bias, table, figure.
- :mod:`.simulate`: simulated participants, to try the analysis.
- :mod:`.materials`: groups cut from generated test clips, rendered, and the manifest.
- :mod:`.page`: the Streamlit study page.
- :mod:`.cli`: ``adm study {materials,serve,analyse,simulate}``.
"""
