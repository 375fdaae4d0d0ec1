"""The two metric models: layer sizes, sequence encoding, fitting, checkpoints."""

import numpy as np
import pytest
import torch
from tolerance import network_tol

from adm.errors import BadInputError, MissingWeightsError
from adm.metrics.checkpoint import (
    load_face_vae,
    load_metric_model,
    load_motion_autoencoder,
    save_metric_model,
)
from adm.metrics.face_vae import FaceVAE, fit_face_vae
from adm.metrics.motion_autoencoder import (
    MotionAutoencoder,
    fit_motion_autoencoder,
    motion_autoencoder_loss,
)
from adm.metrics.windows import sliding_windows

pytestmark = pytest.mark.usefixtures("one_thread")


def randomise_batchnorm(model, seed=0):
    """Non-trivial running statistics, so eval-mode tests see BatchNorm at work."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
    return model.eval()


@pytest.mark.parametrize("length", [34, 35, 68])
def test_motion_encoder_shapes_follow_metrics_md(length):
    model = MotionAutoencoder(dim=141, length=length)
    assert model.encoder.mlp[0].in_features == ((length - 8) // 2 + 1 - 2) * 300
    assert [m.out_channels for m in model.encoder.conv if isinstance(m, torch.nn.Conv1d)] == [
        300, 600, 600, 300,
    ]  # fmt: skip
    mu = model.encode(np.zeros((3, length, 141), np.float32))
    assert mu.shape == (3, 300)
    model.train()
    assert model(torch.randn(2, length, 141)).shape == (2, length, 141)
    with pytest.raises(ValueError, match="L=34"):
        MotionAutoencoder(length=34).encode(np.zeros((2, 30, 141)))


def _layers(module, kind):
    return [m for m in module.modules() if type(m) is kind]


@pytest.mark.parametrize("channels", [51, 7])
def test_face_vae_is_saids_current_bcvae(channels):
    """metrics.md: conv widths 32/64/64/32 whatever C, MLP 256/128/64 with slope 0.01 (conv
    slope 0.2), fc_mu/fc_logvar 64->64, and SAiD's own decoder."""
    length = 60
    model = FaceVAE(channels=channels, length=length)
    enc, dec = model.encoder, model.decoder
    convs = _layers(enc.conv, torch.nn.Conv1d)
    assert [(c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (channels, 32, 3, 1), (32, 64, 3, 1), (64, 64, 4, 2), (64, 32, 3, 1),
    ]  # fmt: skip
    assert [m.negative_slope for m in _layers(enc.conv, torch.nn.LeakyReLU)] == [0.2] * 3
    linears = _layers(enc.mlp, torch.nn.Linear)
    assert [(m.in_features, m.out_features) for m in linears] == [
        (((length - 8) // 2 + 1 - 2) * 32, 256), (256, 128), (128, 64),
    ]  # fmt: skip
    assert [m.negative_slope for m in _layers(enc.mlp, torch.nn.LeakyReLU)] == [0.01] * 2
    assert (enc.fc_mu.in_features, enc.fc_mu.out_features) == (64, 64)
    assert (enc.fc_logvar.in_features, enc.fc_logvar.out_features) == (64, 64)
    # Decoder: Linear(64->2L) BN LReLU(0.01), Linear(2L->4L), unflatten (4, L),
    # ConvT(4->32) BN LReLU(0.2), ConvT(32->32) BN LReLU(0.2), Conv(32->32), Conv(32->C),
    # ReLU, Tanh.
    assert [(m.in_features, m.out_features) for m in _layers(dec.mlp, torch.nn.Linear)] == [
        (64, 2 * length), (2 * length, 4 * length),
    ]  # fmt: skip
    assert [type(m).__name__ for m in dec.conv] == [
        "ConvTranspose1d", "BatchNorm1d", "LeakyReLU", "ConvTranspose1d", "BatchNorm1d",
        "LeakyReLU", "Conv1d", "Conv1d", "ReLU", "Tanh",
    ]  # fmt: skip
    channels_out = [(m.in_channels, m.out_channels) for m in dec.conv if hasattr(m, "in_channels")]
    assert channels_out == [(4, 32), (32, 32), (32, 32), (32, channels)]
    assert model.encode_mu(np.zeros((2, length, channels))).shape == (2, 64)
    recon, mu, logvar = model.train()(torch.rand(4, length, channels) * 50)
    assert recon.shape == (4, length, channels) and mu.shape == logvar.shape == (4, 64)
    assert recon.min() >= 0.0 and recon.max() < 1.0  # ReLU then Tanh


def test_beat_mlp_quirk_makes_the_mlp_affine():
    """BEAT's LeakyReLU(True) = slope 1.0: the encoder MLP is linear (up to its bias)."""
    x = torch.randn(5, 300)  # L = 13 leaves one frame: 300 flat features
    for slope, affine in [(1.0, True), (0.2, False)]:
        mlp = randomise_batchnorm(
            MotionAutoencoder(length=13, mlp_negative_slope=slope)
        ).encoder.mlp
        with torch.no_grad():
            lhs = mlp(2 * x) - mlp(torch.zeros_like(x))
            rhs = 2 * (mlp(x) - mlp(torch.zeros_like(x)))
        # Equal up to the float32 rounding of three passes through the MLP (and 3 more ops).
        tol = 3 * network_tol(mlp, mlp(2 * x).detach(), [3])
        assert torch.allclose(lhs, rhs, atol=tol, rtol=0) is affine


@pytest.mark.parametrize("stride", [1, 3, 10])
def test_sequence_encoding_equals_window_by_window(stride):
    rng = np.random.default_rng(0)
    motion = randomise_batchnorm(MotionAutoencoder(dim=9, length=21))
    x = rng.normal(size=(97, 9)).astype(np.float32)
    fast = motion.encode_sequence(x, stride)
    slow = motion.encode(sliding_windows(x, 21, stride))
    assert fast.shape == ((97 - 21) // stride + 1, 300)
    # The same sums in another batching: each side within the encoder's float32 bound.
    assert torch.allclose(fast, slow, atol=2 * network_tol(motion.encoder, slow), rtol=0)
    face = randomise_batchnorm(FaceVAE(channels=5, length=16))
    y = rng.random((50, 5)).astype(np.float32)
    slow = face.encode_mu(sliding_windows(y, 16, stride))
    tol = 2 * network_tol(face.encoder, slow)
    assert torch.allclose(face.encode_sequence(y, stride), slow, atol=tol, rtol=0)
    assert motion.encode_sequence(x[:10], stride).shape == (0, 300)


def smooth_windows(rng, n, length, dim):
    t = np.linspace(0, 1, length)[None, :, None]
    phase = rng.uniform(0, 2 * np.pi, (n, 1, dim))
    return np.sin(2 * np.pi * t + phase).astype(np.float32)


def test_short_fits_reduce_the_loss():
    rng = np.random.default_rng(0)
    motion_windows = smooth_windows(rng, 48, 12, 4)
    x = torch.from_numpy(motion_windows)
    model = fit_motion_autoencoder(motion_windows, iterations=40, batch=16, lr=3e-4, seed=0)
    losses = model.train_losses
    assert len(losses) == 40 and np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3])
    with torch.no_grad():
        # A seeded fresh model: the comparison must not depend on the global RNG state.
        torch.manual_seed(0)
        fresh = MotionAutoencoder(4, 12).eval()
        assert motion_autoencoder_loss(model, x) < motion_autoencoder_loss(fresh, x)

    face_windows = (0.5 + 0.4 * smooth_windows(rng, 48, 12, 3)).astype(np.float32)
    vae = fit_face_vae(face_windows, epochs=10, batch=16, lr=1e-3, seed=0)
    assert len(vae.train_losses) == 30  # 3 batches of 16 per epoch
    assert np.mean(vae.train_losses[-5:]) < 0.7 * np.mean(vae.train_losses[:5])


def test_fit_is_reproducible_and_needs_a_length_of_training():
    w = smooth_windows(np.random.default_rng(1), 8, 12, 2)
    a = fit_motion_autoencoder(w, iterations=2, batch=4, seed=3)
    b = fit_motion_autoencoder(w, iterations=2, batch=4, seed=3)
    assert a.train_losses == b.train_losses
    with pytest.raises(ValueError, match="exactly one"):
        fit_motion_autoencoder(w, batch=4)


def test_checkpoint_round_trip_gives_identical_features(tmp_path):
    x = np.random.default_rng(2).normal(size=(6, 14, 7)).astype(np.float32)
    model = randomise_batchnorm(MotionAutoencoder(dim=7, length=14, mlp_negative_slope=0.2))
    path = tmp_path / "fgd.safetensors"
    save_metric_model(path, model, extra={"steps": 3})
    loaded = load_motion_autoencoder(path)
    assert loaded.config() == {"dim": 7, "length": 14, "mlp_negative_slope": 0.2}
    assert torch.equal(loaded.encode(x), model.encode(x))

    vae = randomise_batchnorm(FaceVAE(channels=5, length=13))
    vae_path = tmp_path / "face.safetensors"
    save_metric_model(vae_path, vae)
    y = np.random.default_rng(3).random((4, 13, 5))
    assert torch.equal(load_face_vae(vae_path).encode_mu(y), vae.encode_mu(y))
    assert isinstance(load_metric_model(vae_path), FaceVAE)

    with pytest.raises(BadInputError, match="holds a face_vae"):
        load_motion_autoencoder(vae_path)
    with pytest.raises(MissingWeightsError, match="missing.safetensors"):
        load_face_vae(tmp_path / "missing.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(BadInputError, match="junk.safetensors"):
        load_face_vae(tmp_path / "junk.safetensors")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "face.safetensors", "fgd.safetensors", "junk.safetensors",
    ]  # fmt: skip
