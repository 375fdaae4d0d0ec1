"""Tables 1-4 of the paper rebuilt from metrics files and training scalars.

:mod:`.paper` holds the paper's numbers as data; :mod:`.inputs` reads the metrics files and
``scalars.csv``; :mod:`.summary` turns seeds into mean ± 95% CI cells; :mod:`.build` (Tables
1-3) and :mod:`.dynamics` (Table 4) lay the tables out; :mod:`.context` writes the notes under
them; :mod:`.render` writes CSV, Markdown and LaTeX. ``adm tables`` runs it all.
"""
