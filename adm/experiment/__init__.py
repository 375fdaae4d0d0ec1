"""The experiment: config.yaml turned, once, into what every stage and every rule needs.

- :mod:`adm.experiment.config`: :class:`Experiment`, the whole config checked once (the scale
  preset applied) with the clips it names;
- :mod:`adm.experiment.stages`: :func:`stage_settings`, each stage's settings from the whole
  config, and :func:`params`, the canonical JSON a rule passes to the stage's ``--config``;
- :mod:`adm.experiment.files`: the file lists of the rules (paths from :mod:`adm.layout`);
- :mod:`adm.experiment.commands`: the exact command line of each rule (``adm settings``);
- :mod:`adm.experiment.load`: config.yaml read outside Snakemake, checked against the schema.

Light on purpose: building the pipeline's graph imports this package, so nothing here imports
torch or the bundled corpus generator.
"""
