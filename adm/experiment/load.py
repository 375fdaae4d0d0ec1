"""Read config.yaml outside Snakemake: checked against the JSON schema as Snakemake checks it,
then built into an :class:`~adm.experiment.config.Experiment`."""

from __future__ import annotations

from pathlib import Path

from adm.errors import BadInputError, ConfigError
from adm.experiment.config import Experiment

#: The config's JSON schema, beside the workflow (relative to the repository root).
SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


def load_experiment(path: str | Path, schema: Path = SCHEMA) -> Experiment:
    """The experiment of the config file ``path``; a bad key or value is a ConfigError that
    names it (the schema's message, as Snakemake reports it)."""
    import jsonschema
    import yaml

    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise BadInputError(path, "config file not found") from None
    except yaml.YAMLError as err:
        raise BadInputError(path, f"not valid YAML ({err})") from None
    if schema.is_file():
        rules = yaml.safe_load(schema.read_text(encoding="utf-8"))
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(rules).iter_errors(config)
        )
        if error is not None:
            where = ".".join(str(p) for p in error.absolute_path) or "config"
            raise ConfigError(f"{path}: {where}: {error.message}")
    return Experiment.from_config(config)
