"""Exercises of notebook 12 (risks: privacy, watermark, moderation): solutions and judges."""

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


MISS, ALARM = 50.0, 1.0  # a platform for children: a missed harmful message costs $50


def _strict_platform_solution(scores_t, labels_t, scores, labels, grid, **_: object):
    from ..business import moderation

    # choose on the tuning templates, report on the held-out ones
    pick = moderation.best_threshold(scores_t, labels_t, ALARM, MISS, thresholds=grid)
    held = moderation.evaluate_filter(scores, labels, pick.threshold)
    return pick.threshold, held.cost_per_1000(ALARM, MISS)


def _strict_platform_judge(attempt, scores_t, labels_t, scores, labels, grid, **_: object):
    from ..business import moderation

    threshold, cost = (float(a) for a in attempt)
    want_t, want_cost = _strict_platform_solution(scores_t, labels_t, scores, labels, grid)
    leaked = moderation.best_threshold(scores, labels, ALARM, MISS, thresholds=grid).threshold
    if abs(threshold - want_t) > 1e-9 and abs(threshold - leaked) < 1e-9:
        raise AssertionError(
            f"threshold {threshold} is the best one on the held-out messages: choose it on the "
            "tuning set (scores_t, labels_t), then report on the held-out set"
        )
    assert abs(threshold - want_t) < 1e-9, (
        f"threshold {threshold}, expected {want_t}: best_threshold on the tuning set with a "
        f"false alarm at {ALARM:.0f} and a miss at {MISS:.0f} (cost_fp first, then cost_fn)"
    )
    on_tuning = moderation.evaluate_filter(scores_t, labels_t, want_t).cost_per_1000(ALARM, MISS)
    if abs(cost - want_cost) > 1e-6 and abs(cost - on_tuning) < 1e-6:
        raise AssertionError("that is the cost on the tuning set: report it on the held-out set")
    assert abs(cost - want_cost) < 1e-6, (
        f"cost {cost:.1f}, expected {want_cost:.1f} per 1,000 held-out messages at threshold "
        f"{want_t}, with a miss at {MISS:.0f} and an alarm at {ALARM:.0f}"
    )


GUESSES = 100  # the attacker of exercise 12.guess_budget may try this many codes


def _counts(by_level, guesses):
    from ..business import privacy

    return {int(r): privacy.extracted(v, guesses) for r, v in by_level.items()}


def _guess_budget_solution(by_level, **_: object):
    # extracted when the rank 2^-e |R| <= G, i.e. exposure e >= log2(|R| / G) ≈ 13.3 bits
    return _counts(by_level, GUESSES)


def _guess_budget_judge(attempt, by_level, **_: object) -> None:
    if not isinstance(attempt, dict):
        raise AssertionError(
            f"store a dict {{repeats: number of canaries extracted}}, one entry per level, "
            f"not a {type(attempt).__name__}"
        )
    got = {int(r): int(v) for r, v in attempt.items()}
    want = _guess_budget_solution(by_level)
    assert set(got) == set(want), f"keys {sorted(got)}: one entry per level, {sorted(want)}"
    if got == want:
        return
    for g in (10, 1000):
        if got == _counts(by_level, g):
            raise AssertionError(
                f"those are the counts for G = {g:,} guesses; this attacker may try {GUESSES}"
            )
    if got == {r: len(by_level[r]) - k for r, k in want.items()}:
        raise AssertionError(
            "those are the canaries the attacker does NOT extract: a secret is extracted when "
            "its rank 2^-e |R| is at most G, i.e. when its exposure is at least log2(|R| / G)"
        )
    raise AssertionError(
        f"expected {want}: for each level, count the exposures e with 10**6 * 2**-e <= {GUESSES} "
        "(or privacy.extracted(values, guesses))"
    )


EXERCISES = [
    Exercise(
        "12.guess_budget",
        "derive",
        judge=_guess_budget_judge,
        solution=_guess_budget_solution,
    ),
    Exercise(
        "12.strict_platform",
        "derive",
        judge=_strict_platform_judge,
        solution=_strict_platform_solution,
    ),
    Exercise("12.threshold", "derive", judge=_threshold_judge, solution=_threshold_solution),
    Exercise(
        "12.learned_filter",
        "implement",
        judge=_learned_filter_judge,
        solution=_learned_filter_solution,
    ),
]
