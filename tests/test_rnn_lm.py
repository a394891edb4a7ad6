"""LSTM: the from-scratch cell equals nn.LSTMCell; the LM's shapes, state and learning."""

from __future__ import annotations

import torch
from torch import nn

from aigc_course.models.rnn_lm import CharLSTM, LSTMCellScratch, LSTMConfig
from aigc_course.sampling import generate

V = 13


def test_scratch_cell_equals_nn_lstmcell():
    torch.manual_seed(0)
    ours = LSTMCellScratch(5, 7)
    ref = nn.LSTMCell(5, 7)
    ref.load_state_dict(ours.state_dict())  # same names, shapes and gate order
    x = torch.randn(10, 3, 5)
    state_ours = state_ref = None
    for t in range(10):
        state_ours = ours(x[t], state_ours)
        state_ref = ref(x[t], state_ref)
        torch.testing.assert_close(state_ours[0], state_ref[0])
        torch.testing.assert_close(state_ours[1], state_ref[1])
    # gradients agree too
    state_ours[0].sum().backward()
    state_ref[0].sum().backward()
    torch.testing.assert_close(ours.weight_hh.grad, ref.weight_hh.grad)


def test_scratch_cell_differs_with_swapped_gates():
    torch.manual_seed(0)
    ours = LSTMCellScratch(4, 6)
    ref = nn.LSTMCell(4, 6)
    state = ours.state_dict()
    ref.load_state_dict({k: v.roll(6, dims=0) for k, v in state.items()})  # gates shifted
    x = torch.randn(2, 4)
    assert not torch.allclose(ours(x)[0], ref(x)[0])


def test_lm_shapes_and_state():
    torch.manual_seed(0)
    model = CharLSTM(LSTMConfig.tiny(V)).eval()
    idx = torch.randint(0, V, (3, 9))
    logits, loss = model(idx, idx)
    assert logits.shape == (3, 9, V) and loss.ndim == 0
    # running in two chunks with the carried state equals one pass
    a, state = model.step(idx[:, :4])
    b, _ = model.step(idx[:, 4:], state)
    torch.testing.assert_close(torch.cat([a, b], 1), logits)
    assert state[0].shape == (1, 3, 32)


def test_generate_with_state_equals_recomputation():
    torch.manual_seed(0)
    model = CharLSTM(LSTMConfig.tiny(V))
    prompt = torch.randint(0, V, (2, 5))
    a = generate(model, prompt, 20, generator=torch.Generator().manual_seed(3))
    b = generate(model, prompt, 20, generator=torch.Generator().manual_seed(3), use_cache=False)
    assert torch.equal(a, b) and a.shape == (2, 25)


def test_overfits_one_batch():
    torch.manual_seed(0)
    model = CharLSTM(LSTMConfig.tiny(V))
    idx = torch.randint(0, V, (4, 17), generator=torch.Generator().manual_seed(0))
    opt = torch.optim.Adam(model.parameters(), lr=2e-2)
    first = None
    for _ in range(80):
        _, loss = model(idx[:, :-1], idx[:, 1:])
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first / 4


def test_dropout_on_every_non_recurrent_connection_and_off_in_eval():
    torch.manual_seed(0)
    plain = CharLSTM(LSTMConfig(V, n_embd=8, hidden_size=16, num_layers=1))
    dropped = CharLSTM(LSTMConfig(V, n_embd=8, hidden_size=16, num_layers=1, dropout=0.5))
    dropped.load_state_dict(plain.state_dict())  # dropout adds no parameters
    idx = torch.randint(0, V, (2, 7))
    # a one-layer nn.LSTM ignores its own dropout: any change here comes from the
    # embedding and output dropout
    assert not torch.allclose(dropped(idx)[0], dropped(idx)[0])
    torch.testing.assert_close(dropped.eval()(idx)[0], plain.eval()(idx)[0])


def test_declares_the_lm_interface():
    from aigc_course.sampling import CausalLM

    model = CharLSTM(LSTMConfig.tiny(V))
    assert isinstance(model, CausalLM) and model.recurrent and model.family == "lstm"
