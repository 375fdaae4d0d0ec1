"""Face metrics of SAiD in the blendshape VAE's latent space: FD and WInD.

Latents: every window (step 1) of each sequence, encoded to the VAE's ``mu`` (64-d).

- **FD**: Fréchet distance between the generated and the ground-truth latent sets.
- **WInD** (Wasserstein Inception Distance, Dimitrakopoulos et al. 2020, as SAiD computes it):
  fit a 5-component full-covariance Gaussian mixture to each set; the cost ``d_jk`` is the
  Fréchet distance between generated component ``j`` and ground-truth component ``k``; solve

      min sum_jk w_jk d_jk  s.t.  sum_k w_jk <= pi_gen_j,  sum_j w_jk <= pi_gt_k,
                                  sum_jk w_jk = 1,  w >= 0

  with ``scipy.optimize.linprog`` (HiGHS); repeat with mixture seeds 0..9 (repeat ``i``
  fits both sets with seed ``i``) and report every repeat's score, their mean and the sample
  standard deviation (``ddof=1``, SAiD's ``statistics.stdev``). The mixtures are
  scikit-learn's ``GaussianMixture(n_components=5)`` with its defaults (:mod:`.gmm`).

The paper prints FD x1e-5 and WInD x1e-4; these functions return raw values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from adm.metrics import gmm
from adm.metrics.face_vae import FaceVAE
from adm.metrics.frechet import frechet_distance, frechet_from_stats
from adm.metrics.gmm import GaussianMixture, Method


def face_fd(gen_latents: np.ndarray, gt_latents: np.ndarray) -> float:
    """FD: Fréchet distance between latent sets ``gen [n, 64]`` and ``gt [m, 64]``."""
    return frechet_distance(gen_latents, gt_latents)


def transport(cost: np.ndarray, p: np.ndarray, q: np.ndarray) -> tuple[float, np.ndarray]:
    """Solve WInD's transport LP for ``cost [K, K']`` and masses ``p [K]``, ``q [K']``.

    Returns ``(sum w * cost, w [K, K'])`` with row sums <= p, column sums <= q, total 1.
    """
    cost = np.asarray(cost, dtype=np.float64)
    kg, kt = cost.shape
    rows = np.kron(np.eye(kg), np.ones((1, kt)))  # sum_k w_jk
    cols = np.kron(np.ones((1, kg)), np.eye(kt))  # sum_j w_jk
    res = linprog(
        cost.ravel(),
        A_ub=np.vstack([rows, cols]),
        b_ub=np.concatenate([p, q]),
        A_eq=np.ones((1, kg * kt)),
        b_eq=[1.0],
        bounds=(0, None),
        method="highs",
    )
    if not res.success:
        raise RuntimeError(f"WInD transport LP failed: {res.message}")
    return float(res.fun), res.x.reshape(kg, kt)


def wind_from_mixtures(gen: GaussianMixture, gt: GaussianMixture) -> float:
    """WInD between two fitted mixtures (one repeat)."""
    cost = np.array(
        [
            [
                frechet_from_stats(m1, s1, m2, s2)
                for m2, s2 in zip(gt.means, gt.covariances, strict=True)
            ]
            for m1, s1 in zip(gen.means, gen.covariances, strict=True)
        ]
    )
    return transport(cost, gen.weights, gt.weights)[0]


def wind_seeds(repeats: int = 10, seed: int = 0) -> list[int]:
    """The mixture seeds of WInD's repeats: ``seed, seed + 1, ..., seed + repeats - 1``."""
    if repeats < 1:
        raise ValueError(f"WInD needs at least one repeat, got {repeats}")
    return list(range(seed, seed + repeats))


def fit_mixtures(
    x: np.ndarray,
    *,
    components: int = 5,
    repeats: int = 10,
    seed: int = 0,
    method: Method = "em",
) -> list[GaussianMixture]:
    """The ``repeats`` mixtures (seeds :func:`wind_seeds`) of one latent set ``x [n, d]``.

    The ground-truth mixtures do not depend on the method, so the evaluate stage fits them
    once (the test set's reference) and passes them to :func:`wind` for every method.
    """
    return gmm.fit_mixtures(x, wind_seeds(repeats, seed), components=components, method=method)


@dataclass(frozen=True)
class WindResult:
    """WInD over mixture seeds: every repeat's score, their mean and sample std (``ddof=1``,
    SAiD's ``statistics.stdev``; NaN for a single repeat), and the mixtures."""

    seeds: tuple[int, ...]
    scores: tuple[float, ...]
    generated: tuple[GaussianMixture, ...]
    ground_truth: tuple[GaussianMixture, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores))

    @property
    def std(self) -> float:
        return float(np.std(self.scores, ddof=1)) if len(self.scores) > 1 else float("nan")

    def record(self) -> dict:
        """JSON-able: seeds, per-repeat scores, mean, std and each fit's convergence."""

        def fits(mixtures: tuple[GaussianMixture, ...]) -> list[dict]:
            return [
                {
                    "seed": m.seed,
                    "iterations": m.iterations,
                    "converged": m.converged,
                    "lower_bound": m.lower_bound,
                }
                for m in mixtures
            ]

        return {
            "seeds": list(self.seeds),
            "scores": list(self.scores),
            "mean": self.mean,
            "std": self.std if len(self.scores) > 1 else None,
            "generated_fits": fits(self.generated),
            "ground_truth_fits": fits(self.ground_truth),
        }


def wind(
    gen: np.ndarray,
    gt: np.ndarray | list[GaussianMixture],
    *,
    components: int = 5,
    repeats: int = 10,
    seed: int = 0,
    method: Method = "em",
) -> WindResult:
    """WInD of ``gen [n, d]`` against ``gt [m, d]`` over ``repeats`` mixture seeds.

    Repeat ``i`` fits both sets with seed ``seed + i`` and scores the transport between the two
    mixtures (SAiD's protocol). ``gt`` may be the ground-truth mixtures from
    :func:`fit_mixtures` (same seeds); they must carry those seeds.
    """
    seeds = wind_seeds(repeats, seed)
    gen_mix = fit_mixtures(gen, components=components, repeats=repeats, seed=seed, method=method)
    if isinstance(gt, list):
        found = [m.seed for m in gt]
        if found != seeds:
            raise ValueError(f"ground-truth mixtures have seeds {found}, WInD uses {seeds}")
        gt_mix = gt
    else:
        gt_mix = fit_mixtures(gt, components=components, repeats=repeats, seed=seed, method=method)
    scores = tuple(wind_from_mixtures(g, t) for g, t in zip(gen_mix, gt_mix, strict=True))
    return WindResult(tuple(seeds), scores, tuple(gen_mix), tuple(gt_mix))


class FaceLatents:
    """Collects VAE latents of (generated, ground-truth) face sequences for FD and WInD.

    ``update(gen [T, C], gt [T', C])`` encodes every window (``stride`` 1) of both sequences
    of blendshape weights; ``fd()`` and ``wind()`` then use everything seen.
    """

    def __init__(self, model: FaceVAE, stride: int = 1):
        self.model = model
        self.stride = stride
        self._gen: list[np.ndarray] = []
        self._gt: list[np.ndarray] = []

    def _encode(self, x: np.ndarray) -> np.ndarray:
        return self.model.encode_sequence(x, self.stride).cpu().numpy().astype(np.float64)

    def update(self, gen: np.ndarray, gt: np.ndarray) -> None:
        self._gen.append(self._encode(gen))
        self._gt.append(self._encode(gt))

    @property
    def gen_latents(self) -> np.ndarray:
        return np.concatenate(self._gen) if self._gen else np.zeros((0, 64))

    @property
    def gt_latents(self) -> np.ndarray:
        return np.concatenate(self._gt) if self._gt else np.zeros((0, 64))

    def fd(self) -> float:
        return face_fd(self.gen_latents, self.gt_latents)

    def wind(
        self,
        *,
        components: int = 5,
        repeats: int = 10,
        seed: int = 0,
        gt_mixtures: list[GaussianMixture] | None = None,
        method: Method = "em",
    ) -> WindResult:
        """WInD of everything seen; ``gt_mixtures`` (from :func:`fit_mixtures` on
        :attr:`gt_latents` with the same settings) skips refitting the ground truth."""
        gt = self.gt_latents if gt_mixtures is None else gt_mixtures
        return wind(
            self.gen_latents,
            gt,
            components=components,
            repeats=repeats,
            seed=seed,
            method=method,
        )
