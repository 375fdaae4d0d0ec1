"""The CaMN peer: shapes, padding, its cascade (hands see the body), the optional face input,
the body/hands split, and its semantic-weighted Huber objective."""

from __future__ import annotations

import pytest
import torch
from tolerance import gamma, network_tol
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.overrides import TorchFunctionMode

from adm.errors import ConfigError
from adm.models import build_denoiser
from adm.models.camn_config import BODY_JOINTS, body_hand_columns
from adm.models.camn_layers import MaskedBiLSTM
from adm.skeleton import GESTURE_DIM, GESTURE_JOINTS
from adm.training.objectives import LossInputs, build_objective

pytestmark = pytest.mark.usefixtures("one_thread")

B, T, S = 3, 16, 4
STEPS = 150
TINY = {
    "audio_dim": 7, "text_dim": 5, "num_speakers": 3, "window": T, "seed_frames": S,
    "audio_f": 8, "audio_hidden": 8, "audio_blocks": 2, "word_dims": 6, "word_f": 8,
    "text_hidden": 8, "text_layers": 2, "speaker_f": 4, "emotion_f": 4, "face_f": 8,
    "hidden": 16, "layers": 2,
}  # fmt: skip


def _model(**changes):
    torch.manual_seed(0)
    return build_denoiser("camn", {**TINY, **changes})


def _cond(seed=0, batch=B, length=T):
    g = torch.Generator().manual_seed(seed)
    return {
        "audio": torch.randn(batch, length, 7, generator=g),
        "text": torch.randn(batch, length, 5, generator=g),
        "speaker": torch.arange(batch) % 3,
        "emotion": torch.arange(batch) % 8,
        "seed": torch.randn(batch, S, GESTURE_DIM, generator=g),
        "face_input": torch.randn(batch, length, 51, generator=g),
        "mask": torch.ones(batch, length, dtype=torch.bool),
        "semantic": torch.rand(batch, length, generator=g),
        "unknown_key": torch.zeros(1),
    }


def test_output_is_the_gesture_for_every_frame():
    model = _model().eval()
    out = model.predict(_cond())
    assert out.shape == (B, T, GESTURE_DIM)
    assert model.x_dim == GESTURE_DIM and model.task_slices == {"gesture": slice(0, GESTURE_DIM)}
    assert model.regression and model.face_input


@pytest.mark.parametrize("changes", [{"text_dim": 0}, {"seed_frames": 0}])
def test_text_and_seed_are_optional(changes):
    model = _model(**changes).eval()
    cond = _cond()
    for key, width in (("text", "text_dim"), ("seed", "seed_frames")):
        if width in changes:
            del cond[key]
    assert model(cond).shape == (B, T, GESTURE_DIM)
    if "text_dim" in changes:
        assert model.text_encoder is None and model.in_size == _model().in_size - 8


def test_body_and_hands_split_covers_every_dim_once():
    body, hands = body_hand_columns()
    assert len(body) == 27 and len(hands) == 114
    assert sorted(body + hands) == list(range(GESTURE_DIM))
    assert set(BODY_JOINTS) <= set(GESTURE_JOINTS) and len(set(BODY_JOINTS)) == 9
    # CaMN's body columns in BEAT's 141-dim layout (the same joints in the same order).
    assert body == (*range(0, 18), *range(75, 84))


def test_output_places_body_and_hands_predictions_at_their_columns():
    model = _model().eval()
    seen = {}
    model.body_out.register_forward_hook(lambda m, i, o: seen.__setitem__("body", o))
    model.hands_out.register_forward_hook(lambda m, i, o: seen.__setitem__("hands", o))
    out = model(_cond())
    body, hands = body_hand_columns()
    assert torch.equal(out[..., list(body)], seen["body"])
    assert torch.equal(out[..., list(hands)], seen["hands"])


@pytest.mark.parametrize("training", [False, True])
def test_padded_frames_do_not_change_valid_frames(training):
    # Dropout off so that training mode (batch statistics over valid frames) is deterministic.
    model = _model(dropout=0.0, text_dropout=0.0, embed_dropout=0.0).train(training)
    cond = _cond()
    lengths = [T, T - 5, S + 1]
    cond["mask"] = torch.arange(T)[None] < torch.tensor(lengths)[:, None]
    other = dict(cond)
    pad = ~cond["mask"]
    for key in ("audio", "text", "face_input"):
        noise = 100 * torch.randn_like(cond[key])
        other[key] = torch.where(pad[..., None], noise, cond[key])
    with torch.no_grad():
        a, b = model(cond), model(other)
    tol = network_tol(model, a)
    valid = cond["mask"]
    torch.testing.assert_close(a[valid], b[valid], atol=tol, rtol=0)
    assert (a[pad] - b[pad]).abs().max() > 10 * tol  # the padded frames did change


def test_valid_frames_equal_the_window_cut_to_them():
    model = _model().eval()
    cond = _cond()
    cut = T - 5
    cond["mask"][1, cut:] = False
    alone = {k: v[1:2] for k, v in cond.items() if k != "unknown_key"}
    for key in ("audio", "text", "face_input", "mask", "semantic"):
        alone[key] = alone[key][:, :cut]
    with torch.no_grad():
        full, short = model(cond)[1, :cut], model(alone)[0]
    torch.testing.assert_close(full, short, atol=network_tol(model, full), rtol=0)


def test_lstm_equals_a_packed_bidirectional_lstm():
    torch.manual_seed(1)
    ours = MaskedBiLSTM(5, 6, 3, dropout=0.0)
    ref = torch.nn.LSTM(5, 6, 3, batch_first=True, bidirectional=True)
    with torch.no_grad():
        for k in range(3):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(ref, f"{name}_l{k}").copy_(getattr(ours.forward_layers[k], f"{name}_l0"))
                getattr(ref, f"{name}_l{k}_reverse").copy_(
                    getattr(ours.backward_layers[k], f"{name}_l0")
                )
    x = torch.randn(3, 10, 5)
    lengths = torch.tensor([10, 6, 2])
    with torch.no_grad():
        got = ours(x, lengths)
        packed, _ = ref(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        want, _ = pad_packed_sequence(packed, batch_first=True, total_length=10)
        want = want[..., :6] + want[..., 6:]
    valid = torch.arange(10)[None] < lengths[:, None]
    # Each step's gates sum 5 + 6 (layer 0) or 12 + 6 terms of values <= 1 in magnitude; errors
    # of at most 10 steps and 3 layers add up (outputs are bounded by 2).
    tol = 2 * 3 * 10 * gamma(12 + 6 + 2)
    torch.testing.assert_close(got[valid], want[valid], atol=tol, rtol=0)


def test_hands_lstm_receives_the_body_prediction():
    model = _model().eval()
    assert model.hands_lstm.input_size == model.body_lstm.input_size + 27 == model.in_size + 27
    cond = _cond()
    with torch.no_grad():
        before = model(cond)
        handle = model.body_out.register_forward_hook(lambda m, i, o: o + 0.5)
        after = model(cond)
        handle.remove()
    body, hands = body_hand_columns()
    tol = network_tol(model, before)
    torch.testing.assert_close(
        after[..., list(body)], before[..., list(body)] + 0.5, atol=tol, rtol=0
    )
    assert (after[..., list(hands)] - before[..., list(hands)]).abs().max() > 10 * tol


def test_face_input_can_be_switched_off():
    off = _model(use_face=False).eval()
    assert off.face_encoder is None and off.face_fusion is None
    assert not [name for name, _ in off.named_parameters() if "face" in name]
    cond = _cond()
    other = {**cond, "face_input": cond["face_input"] + 10}
    without = {k: v for k, v in cond.items() if k != "face_input"}
    with torch.no_grad():
        a, b, c = off(cond), off(other), off(without)
    assert torch.equal(a, b) and torch.equal(a, c)

    on = _model(use_face=True).eval()
    with torch.no_grad():
        a, b = on(cond), on(other)
    assert (a - b).abs().max() > 10 * network_tol(on, a)
    with pytest.raises(ValueError, match="face_input"):
        on(without)


def test_emotion_is_used_and_absent_means_zero():
    model = _model().eval()
    cond = _cond()
    zero = {**cond, "emotion": torch.zeros(B, dtype=torch.long)}
    absent = {k: v for k, v in cond.items() if k != "emotion"}
    with torch.no_grad():
        a, z, n = model(cond), model(zero), model(absent)
    assert torch.equal(z, n)
    assert (a[1:] - z[1:]).abs().max() > 10 * network_tol(model, a)  # rows 1, 2 have emotion != 0


def test_seed_reaches_the_output():
    model = _model().eval()
    cond = _cond()
    with torch.no_grad():
        a = model(cond)
        b = model({**cond, "seed": cond["seed"] + 1})
    assert (a - b).abs().max() > 10 * network_tol(model, a)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("seed", torch.zeros(B, S + 1, GESTURE_DIM)),
        ("text", torch.zeros(B, T, 4)),
        ("speaker", torch.zeros(B, 1, dtype=torch.long)),
        ("emotion", torch.zeros(B)),
        ("mask", torch.ones(B, T)),
    ],
)
def test_bad_shapes_name_the_cond_key(key, value):
    with pytest.raises(ValueError, match=f"cond\\['{key}'\\]"):
        _model()({**_cond(), key: value})


def test_speaker_ids_out_of_range_are_refused_by_the_value_check():
    """(Emotion labels outside 0-7 are refused by the annotation reader, naming the file.)"""
    model = _model()
    with pytest.raises(ValueError, match="cond\\['speaker'\\]"):
        model.check_speakers(torch.tensor([-1, 0]))
    model.check_speakers(torch.tensor([0, 2]))


class HostReads(TorchFunctionMode):
    """Records tensor reads that copy values to the host (device synchronisations on CUDA)."""

    READS = {
        torch.Tensor.item, torch.Tensor.tolist, torch.Tensor.__bool__, torch.Tensor.__int__,
        torch.Tensor.__float__, torch.Tensor.__index__, torch.Tensor.numpy, torch.Tensor.cpu,
        torch.Tensor.nonzero, torch.Tensor.any, torch.Tensor.all, torch.any, torch.all,
    }  # fmt: skip

    def __init__(self):
        super().__init__()
        self.seen = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in self.READS:
            self.seen.append(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


def test_forward_reads_no_values_on_the_host():
    model = _model().train()
    cond = _cond()
    cond["mask"][0, -3:] = False
    reads = HostReads()
    with reads:
        model(cond).sum().backward()
    assert reads.seen == []


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("training", [False, True])
def test_forward_never_synchronises_on_cuda(training):
    # CUDA's own check: with sync debug mode "error" any host synchronisation raises.
    model = _model().cuda().train(training)
    cond = {k: v.cuda() for k, v in _cond().items()}
    cond["mask"][0, -3:] = False
    with torch.set_grad_enabled(training):
        model(cond).sum()  # warm-up: first-call allocations may synchronise
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            out = model(cond)
            if training:
                out.sum().backward()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    assert out.shape == (B, T, GESTURE_DIM)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"tasks": ["gesture", "face"]}, "model.tasks"),
        ({"task_dims": {"gesture": 135}}, "model.task_dims.gesture"),
        ({"audio_dim": 0}, "model.audio_dim"),
        ({"seed_frames": T + 1}, "model.seed_frames"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_configs_are_refused(changes, named):
    with pytest.raises(ConfigError, match=named):
        build_denoiser("camn", {**TINY, **changes})


# ---------------------------------------------------------------------------------- objective
def _inputs(pred, target, mask, semantic=None):
    cond = {} if semantic is None else {"semantic": semantic}
    return LossInputs(
        pred=pred,
        x0=target,
        mask=mask,
        task_slices={"gesture": slice(0, GESTURE_DIM)},
        valid_frames=mask.sum(),
        cond=cond,
    )


def test_objective_is_500_times_the_semantic_scaled_huber():
    objective = build_objective({"name": "camn"})
    assert objective.prediction is None
    target = torch.zeros(2, 5, GESTURE_DIM)
    mask = torch.ones(2, 5, dtype=torch.bool)
    mask[1, 3:] = False
    semantic = torch.zeros(2, 5)
    semantic[0, 1] = 1.0
    pred = target.clone()
    pred[0, 1, 7] = 0.01  # scaled by semantic + 1 = 2: 0.02 < beta, quadratic: 0.5 e^2 / beta
    pred[0, 2, 9] = 1.0  # beyond beta, linear: |e| - beta / 2
    pred[1, 4, 3] = 50.0  # a padded frame: not counted
    got = objective(_inputs(pred, target, mask, semantic))["gesture"]["huber"]
    want = 500 * (0.5 * 0.02**2 / 0.1 + (1.0 - 0.05)) / (8 * GESTURE_DIM)
    torch.testing.assert_close(got, torch.tensor(want), rtol=gamma(8 * GESTURE_DIM), atol=0)
    # CaMN's own form, beta * smooth_l1(a / beta, b / beta), of the same valid errors.
    w = (semantic + 1)[..., None]
    theirs = 0.1 * torch.nn.functional.smooth_l1_loss(
        w * pred / 0.1, w * target / 0.1, reduction="none"
    )
    torch.testing.assert_close(
        got, 500 * theirs[mask].mean(), rtol=2 * gamma(8 * GESTURE_DIM), atol=0
    )


def test_objective_without_semantic_scores_weights_frames_equally():
    objective = build_objective({"name": "camn", "beta": 0.1, "weight": 500})
    g = torch.Generator().manual_seed(0)
    pred, target = torch.randn(2, 5, GESTURE_DIM, generator=g), torch.zeros(2, 5, GESTURE_DIM)
    mask = torch.ones(2, 5, dtype=torch.bool)
    zero = objective(_inputs(pred, target, mask, torch.zeros(2, 5)))["gesture"]["huber"]
    absent = objective(_inputs(pred, target, mask))["gesture"]["huber"]
    assert torch.equal(zero, absent)
    with pytest.raises(ConfigError, match="objective.beta"):
        build_objective({"name": "camn", "beta": 0})


def test_one_batch_is_overfitted_with_the_camn_objective():
    # Dropout off: memorising one batch is the point here.
    model = _model(dropout=0.0, text_dropout=0.0, embed_dropout=0.0).train()
    objective = build_objective({"name": "camn"})
    cond = _cond()
    cond["mask"][2, -4:] = False
    # Smooth motion: per dim an amplitude and phase, per row its own tempo.
    g = torch.Generator().manual_seed(3)
    amplitude, phase = (
        torch.rand(GESTURE_DIM, generator=g),
        6 * torch.rand(GESTURE_DIM, generator=g),
    )
    tempo = torch.tensor([0.2, 0.35, 0.5])[:, None, None]
    x0 = amplitude * torch.sin(tempo * torch.arange(T)[None, :, None] + phase)
    cond["seed"] = x0[:, :S]
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, betas=(0.5, 0.999))  # CaMN's betas
    losses = []
    for _ in range(STEPS):
        loss = objective(
            LossInputs(
                pred=model(cond),
                x0=x0,
                mask=cond["mask"],
                task_slices=model.task_slices,
                valid_frames=cond["mask"].sum(),
                cond=cond,
            )
        )["gesture"]["huber"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] <= losses[0] / 10, (losses[0], losses[-1])


def test_per_frame_emotion_labels_equal_one_label_per_window_when_constant():
    """BEAT labels emotion per frame; a window whose frames share one label gives the same
    output as that label given once for the window."""
    model = _model().eval()
    cond = _cond(batch=2, length=20)
    per_window = {**cond, "emotion": torch.tensor([3, 5])}
    per_frame = {**cond, "emotion": torch.tensor([3, 5])[:, None].expand(2, 20).contiguous()}
    with torch.no_grad():
        a, b = model(per_window), model(per_frame)
    # the same values reach the convolutions through differently laid-out inputs: equal up to
    # the network's float32 rounding
    assert torch.allclose(a, b, rtol=0, atol=network_tol(model, a))
