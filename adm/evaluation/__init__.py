"""The evaluate stage: metric models fitted on the train split, every metric of a generated test
set (or of the mean-pose baseline), recorded as one JSON file per variant and sampling seed.

Modules: :mod:`.config` (settings), :mod:`.fit` (metric-model training), :mod:`.inputs`
(ground truth, samples, audio, provenance), :mod:`.gesture` and :mod:`.face` (the metric
accumulators), :mod:`.baseline` (mean pose), :mod:`.run` (one evaluation and its record).
"""

from adm.evaluation.config import EvalConfig, FitConfig
from adm.evaluation.run import EvalInputs, evaluate, metric_names

__all__ = ["EvalConfig", "EvalInputs", "FitConfig", "evaluate", "metric_names"]
