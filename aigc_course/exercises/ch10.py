"""Exercises of notebook 10 (risks: privacy, watermark, moderation): solutions and judges."""

from __future__ import annotations

import numpy as np

from . import Exercise


def _threshold_solution(z_marked, z_plain, **_: object):
    det2 = float((z_marked[:, -1] >= 2.0).mean())  # last column: the longest length
    fpr2 = float((z_plain[:, -1] >= 2.0).mean())  # theory: P(Z >= 2) ≈ 2.3 % without a mark
    return det2, fpr2


def _threshold_judge(attempt, z_marked, z_plain, **_: object) -> None:
    det2, fpr2 = (float(a) for a in attempt)
    assert 0 <= det2 <= 1 and 0 <= fpr2 <= 1, (
        f"det2 = {det2}, fpr2 = {fpr2}: store shares in [0, 1], not percentages"
    )
    want_det = float((z_marked[:, -1] >= 2.0).mean())
    want_fpr = float((z_plain[:, -1] >= 2.0).mean())
    assert abs(det2 - want_det) < 1e-12, (
        f"det2 = {det2:.3f}, expected {want_det:.3f}: the share of watermarked texts with "
        "z >= 2 at the longest length (the last column of z_marked)"
    )
    assert abs(fpr2 - want_fpr) < 1e-12, (
        f"fpr2 = {fpr2:.3f}, expected {want_fpr:.3f}: the share of plain model texts "
        "(z_plain, not z_marked) with z >= 2 at the longest length"
    )


def _fit_filter(tune, held):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4))
    clf = LogisticRegression(max_iter=1000, C=10.0)
    clf.fit(vec.fit_transform([m.text for m in tune]), [m.harmful for m in tune])  # tuning only
    return clf.predict_proba(vec.transform([m.text for m in held]))[:, 1]  # unseen templates


def _learned_filter_solution(tune, held, dis, **_: object):
    prob = _fit_filter(tune, held)
    return float(np.mean(prob[dis] < 0.5))  # held-out disguised messages it lets through


def _learned_filter_judge(attempt, tune, held, dis, scores, **_: object) -> None:
    value = float(attempt)
    assert 0 <= value <= 1, f"fnr_disguised = {value}: a share in [0, 1], not a percentage"
    prob = _fit_filter(tune, held)
    want = float(np.mean(prob[dis] < 0.5))
    keyword = float(np.mean(scores[dis] < 1.5))
    if abs(value - keyword) < 1e-12 and abs(value - want) > 1e-12:
        raise AssertionError(
            "that is the keyword filter's miss rate on the disguised messages; fit the "
            "character n-gram classifier and use its probabilities"
        )
    tol = 1.5 / max(1, int(np.sum(dis)))  # one message either way (solver round-off)
    assert abs(value - want) < tol, (
        f"fnr_disguised = {value:.3f}, expected {want:.3f}: train on the tuning messages "
        "`tune` with LogisticRegression(C=10.0, max_iter=1000), predict on the held-out "
        "messages `held`, and take the share of the disguised ones (all harmful) whose "
        "probability is below 0.5"
    )
    assert value < keyword, "character n-grams should miss fewer disguised messages than keywords"


EXERCISES = [
    Exercise("10.threshold", "derive", judge=_threshold_judge, solution=_threshold_solution),
    Exercise(
        "10.learned_filter",
        "implement",
        judge=_learned_filter_judge,
        solution=_learned_filter_solution,
    ),
]
