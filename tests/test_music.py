"""Chorale tokens, keys, theory statistics, memorisation and the synthesiser."""

from __future__ import annotations

import wave

import numpy as np
import pytest
import torch

from aigc_course.data.chorales import Chorale, check_grid
from aigc_course.music import audio, keys, theory, tokens


def chorale(rows, name="hand-made") -> Chorale:
    """A chorale from rows of four entries: a MIDI pitch (a note starts), "_" (hold)
    or 0 (rest)."""
    pitches = np.zeros((len(rows), 4), dtype=np.int16)
    onsets = np.zeros((len(rows), 4), dtype=bool)
    for t, row in enumerate(rows):
        for v, x in enumerate(row):
            if x == "_":
                pitches[t, v] = pitches[t - 1, v]
            elif x:
                pitches[t, v], onsets[t, v] = x, True
    return Chorale(name, pitches, onsets)


# Steps 0 -> 1: alto and bass rise a compound fifth to a compound fifth (parallel fifth)
# while soprano and bass rise in octaves (parallel octave); step 2 holds everything;
# step 3 returns to step 0 (the same two parallels, downwards); at step 4 the alto sits
# above the soprano (one crossing) and the bass rests.
PASSAGE = [
    (72, 67, 64, 48),
    (74, 69, 65, 50),
    ("_", "_", "_", "_"),
    (72, 67, 64, 48),
    (60, 64, 55, 0),
]


def test_theory_statistics_on_a_passage_with_known_answers():
    c = chorale(PASSAGE)
    assert theory.parallels(c) == {"fifths": 2, "octaves": 2}
    assert theory.crossings(c) == 1
    assert theory.rhythm_density(c) == pytest.approx(15 / 4 / (5 / 4))
    s = theory.statistics([c])
    assert s["parallel_fifths_per_100"] == pytest.approx(40.0)
    assert s["parallel_octaves_per_100"] == pytest.approx(40.0)
    assert s["crossings_per_100"] == pytest.approx(20.0)
    assert s["rest_pct"] == pytest.approx(5.0)
    # out of the usual ranges: S 60..79, A 55..74, T 48..67, B 40..60 -> none here
    assert s["out_of_range_pct"] == 0.0
    high = chorale([(84, 67, 64, 48)])
    assert theory.out_of_range_share(high) == pytest.approx(0.25)


def test_contrary_motion_and_repeated_notes_are_not_parallels():
    contrary = chorale([(72, 0, 0, 48), (67, 0, 0, 55)])  # octave 24 -> 12, opposite ways
    assert theory.parallels(contrary)["octaves"] == 0
    repeated = chorale([(72, 0, 0, 65), (72, 0, 0, 65)])  # re-struck fifth: no motion
    assert theory.parallels(repeated)["fifths"] == 0
    oblique = chorale([(72, 0, 0, 60), (74, 0, 0, 60)])
    assert theory.parallels(oblique) == {"fifths": 0, "octaves": 0}


def test_grid_round_trip_is_lossless_and_errors_are_named():
    c = chorale(PASSAGE)
    ids = tokens.encode_grid(c)
    assert len(ids) == 4 * c.steps
    assert tokens.grid_tokens(c)[:4] == ["S72", "A67", "T64", "B48"]
    assert tokens.grid_tokens(c)[8:12] == ["S_", "A_", "T_", "B_"]
    back = tokens.decode_grid(ids)
    np.testing.assert_array_equal(back.pitches, c.pitches)
    np.testing.assert_array_equal(back.onsets, c.onsets)
    with pytest.raises(ValueError, match="slot"):
        tokens.decode_grid(np.roll(ids, 1))
    with pytest.raises(ValueError, match="whole number of steps"):
        tokens.decode_grid(ids[:-1])
    hold_after_rest = chorale([(60, 0, 0, 0)])
    bad = tokens.encode_grid(hold_after_rest)
    bad[1] = tokens.GRID_STOI["A_"]
    with pytest.raises(ValueError, match="holds no note"):
        tokens.decode_grid(bad)
    repaired, n = tokens.decode_sample(bad)
    assert n == 1 and repaired.pitches[0, 1] == 0
    with pytest.raises(ValueError, match="range"):
        tokens.encode_grid(chorale([(100, 0, 0, 0)]))


def test_event_round_trip_keeps_rests_and_is_shorter_for_held_notes():
    rows = [(60, 55, 52, 48)] + [("_", "_", "_", "_")] * 7 + [(0, 0, 0, 0)] * 2
    c = chorale(rows)
    ev = tokens.event_tokens(c)
    assert ev == ["S60", "d8", "A55", "d8", "T52", "d8", "B48", "d8", "w10"]
    back = tokens.decode_events(tokens.encode_events(c))
    np.testing.assert_array_equal(back.pitches, c.pitches)
    np.testing.assert_array_equal(back.onsets, c.onsets)
    assert len(ev) < len(tokens.encode_grid(c))
    p = chorale(PASSAGE)
    back = tokens.decode_events(tokens.encode_events(p))
    np.testing.assert_array_equal(back.pitches, p.pitches)
    np.testing.assert_array_equal(back.onsets, p.onsets)
    with pytest.raises(ValueError, match="duration"):
        tokens.decode_events([tokens.EVENT_STOI["S60"]])


def test_grid_invariants_are_checked():
    with pytest.raises(ValueError, match="onset on a rest"):
        check_grid(np.zeros((1, 4), int), np.ones((1, 4), bool))
    with pytest.raises(ValueError, match="missing onset"):
        check_grid(np.full((1, 4), 60), np.zeros((1, 4), bool))


def test_key_estimate_and_normalisation():
    c_major = [60, 62, 64, 65, 67, 69, 71] * 3 + [60, 64, 67] * 4  # tonic triad weighted
    assert keys.estimate_key(np.array(c_major))[:2] == (0, "major")
    a_minor = [57, 59, 60, 62, 64, 65, 68] * 3 + [57, 60, 64] * 4
    assert keys.estimate_key(np.array(a_minor))[:2] == (9, "minor")
    # Pearson correlation against an independent implementation
    from scipy.stats import pearsonr

    h = keys.pitch_class_histogram(np.array(c_major))
    expected = pearsonr(h, np.roll(keys.MINOR_PROFILE, 4)).statistic
    assert keys.key_scores(h)[1, 4] == pytest.approx(expected)
    # a chorale in D major moves down two semitones to C major
    d_major = chorale([(m + 2, 0, 0, 0) for m in c_major])
    moved, shift = keys.normalise_key(d_major)
    assert shift == -2 and keys.estimate_key(moved.pitches)[:2] == (0, "major")
    np.testing.assert_array_equal(keys.transpose(moved, 2).pitches, d_major.pitches)
    assert keys.shift_to_reference(7, "minor") == 2 and keys.shift_to_reference(6, "major") == -6


def test_transposition_round_trips_through_the_tokens():
    c = chorale(PASSAGE)
    for s in (-5, 3):
        up = keys.transpose(c, s)
        back = keys.transpose(tokens.decode_grid(tokens.encode_grid(up)), -s)
        np.testing.assert_array_equal(back.pitches, c.pitches)
        np.testing.assert_array_equal(back.onsets, c.onsets)
    with pytest.raises(ValueError, match="MIDI range"):
        keys.transpose(c, 100)


def test_longest_copied_passage_does_not_cross_chorales():
    a = chorale([(60 + i, 55, 52, 48) for i in range(6)], "a")
    b = chorale([(70 + i, 55, 52, 48) for i in range(6)], "b")
    sample = chorale([(63, 55, 52, 48), (64, 55, 52, 48), (65, 55, 52, 48)] + [(70, 55, 52, 48)])
    assert theory.longest_copied_passage(sample, [a, b]) == (3, "a", 3)
    assert theory.longest_copied_passage(chorale([(90, 0, 0, 0)]), [a, b]) == (0, "", -1)
    assert theory.longest_copied_passage(b, [a, b]) == (6, "b", 0)


def test_voice_order_processor_keeps_samples_well_formed():
    from aigc_course.models.transformer_lm import GPT, GPTConfig
    from aigc_course.sampling import generate

    torch.manual_seed(0)
    model = GPT(GPTConfig.tiny(len(tokens.GRID_VOCAB)))
    start = torch.full((3, 1), tokens.GRID_STOI[tokens.BOUNDARY])
    kw = dict(temperature=1.5, generator=torch.Generator().manual_seed(1))
    out = generate(model, start, 48, logits_processors=[tokens.voice_order_processor()], **kw)
    for row in out:
        c, repaired = tokens.decode_sample(row)
        assert repaired == 0 and c.steps == 12
    raw = generate(model, start, 48, **kw)  # an untrained model ignores the voice order
    assert sum(tokens.decode_sample(row)[1] for row in raw) > 0


def test_envelope_and_synthesiser():
    env = audio.envelope(1000, rate=1000, attack=0.1, release=0.2)
    assert env.shape == (1000,) and env[0] == 0 and env[500] == 1
    assert env[99] < 1 and env[100] == 1 and env[-1] < 0.01 and env[799] == 1
    short = audio.envelope(30, rate=1000, attack=0.1, release=0.2)
    assert short.shape == (30,) and short.max() <= 1 and short[0] == 0
    c = chorale(PASSAGE)
    x = audio.render(c, rate=8000, step_seconds=0.1)
    assert x.shape == (round(5 * 0.1 * 8000),) and x.dtype == np.float32
    assert np.abs(x).max() == pytest.approx(0.9, abs=1e-6)
    assert audio.render(c, rate=8000, step_seconds=0.1, max_seconds=0.2).shape == (1600,)
    silent = chorale([(0, 0, 0, 0)] * 3)
    assert not audio.render(silent).any()
    a4 = chorale([(69, 0, 0, 0)] + [("_", 0, 0, 0)] * 15)  # 2 s of A4
    y = audio.render(a4, rate=8000)
    spectrum = np.abs(np.fft.rfft(y))
    assert np.fft.rfftfreq(len(y), 1 / 8000)[spectrum.argmax()] == pytest.approx(440, abs=1)


def test_wav_file_round_trip(tmp_path):
    x = audio.render(chorale(PASSAGE), rate=8000)
    path = audio.write_wav(tmp_path / "c.wav", x, rate=8000)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        back = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2") / 32767
    np.testing.assert_allclose(back, x, atol=1 / 32767)
    with pytest.raises(ValueError, match="mono"):
        audio.write_wav(tmp_path / "s.wav", np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        audio.write_wav(tmp_path / "s.wav", np.full(3, 2.0))


def test_midi_export_round_trip(tmp_path):
    from music21 import converter

    from aigc_course.data.chorales import score_to_chorale

    c = chorale(PASSAGE)
    path = audio.write_midi(tmp_path / "c.mid", c)
    back = score_to_chorale(converter.parse(str(path)), "back")
    np.testing.assert_array_equal(back.pitches, c.pitches)
    np.testing.assert_array_equal(back.onsets, c.onsets)


def test_token_streams_normalise_and_augment_only_the_training_split():
    from aigc_course.data.chorales import load_chorales
    from aigc_course.music.dataset import prepare_chorale_tokens

    data = load_chorales(limit=12)
    plain = prepare_chorale_tokens(data=data)
    aug = prepare_chorale_tokens(shifts=(-2, 2), data=data)
    assert len(aug.train_ids) > 2.5 * len(plain.train_ids)  # (almost) three copies
    assert torch.equal(aug.val_ids, plain.val_ids) and torch.equal(aug.test_ids, plain.test_ids)
    for c in plain.train + plain.val + plain.test:
        assert keys.estimate_key(c.pitches)[:2] in ((0, "major"), (9, "minor"))
    bound = tokens.GRID_STOI[tokens.BOUNDARY]
    assert int((plain.train_ids == bound).sum()) == len(plain.train) + 1
    n_steps = sum(c.steps for c in plain.train)
    assert len(plain.train_ids) == 4 * n_steps + len(plain.train) + 1


@pytest.mark.slow
def test_the_committed_chorale_model_scores_its_recorded_figures():
    from aigc_course.loading import load_pretrained
    from aigc_course.music.dataset import lm_bits_per_step, prepare_chorale_tokens, steps_in

    model, meta = load_pretrained("chorale_transformer", "cpu")
    data = prepare_chorale_tokens()
    assert data.record["sha256"] == meta["data"]["sha256"], "another music21 corpus"
    got = lm_bits_per_step(model, data.test_ids, steps_in(data.test))
    assert abs(got - meta["metrics"]["test_bits_per_step"]) < 0.01
    assert got < meta["ngram"]["test_bits_per_step"] - 0.1


def test_harmonising_keeps_the_melody_and_scores_only_the_lower_voices():
    from aigc_course.models.transformer_lm import GPT, GPTConfig
    from aigc_course.music.sampling import harmonise, lower_voices_bits_per_step

    torch.manual_seed(0)
    model = GPT(GPTConfig.tiny(len(tokens.GRID_VOCAB)))
    melody = chorale(PASSAGE)
    out = harmonise(model, melody, n=3, temperature=1.5, seed=2)
    for h in out:
        np.testing.assert_array_equal(h.pitches[:, 0], melody.pitches[:, 0])
        np.testing.assert_array_equal(h.onsets[:, 0], melody.onsets[:, 0])
    assert any(not np.array_equal(h.pitches[:, 1:], out[0].pitches[:, 1:]) for h in out[1:])
    with pytest.raises(ValueError, match="soprano"):
        tokens.melody_processor([tokens.GRID_STOI["A60"]])
    bits = lower_voices_bits_per_step(model, melody)
    from aigc_course.metrics.text import sequence_nll

    ids = torch.cat(
        [
            torch.tensor([tokens.GRID_STOI[tokens.BOUNDARY]]),
            torch.from_numpy(tokens.encode_grid(melody)),
        ]
    )
    total = float(sequence_nll(model, ids).sum()) / np.log(2) / melody.steps
    soprano = float(sequence_nll(model, ids)[0::4].sum()) / np.log(2) / melody.steps
    assert bits == pytest.approx(total - soprano) and 0 < bits < total
