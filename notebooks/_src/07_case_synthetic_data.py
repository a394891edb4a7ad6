# %% [markdown]
# # 06 · Case study: can synthetic data cut labelling cost?
#
# A claim repeated in every business presentation on generative AI: *synthetic data
# "raises data efficiency and cuts labelling costs"*. Labels are expensive (a medical
# image can cost several euros to annotate), so if a generator can stand in for some of
# them, that is money. This notebook turns the claim into an experiment you can run and
# check: a digit classifier trained with **few labels**, with and without samples from
# class-conditional generators, scored on held-out digits over several seeds, and the
# accuracy difference converted into **labels saved** and then into money.
#
# The answer is not a slogan. Where the generator knows something the few labels do not,
# synthetic data helps; where it does not, it cannot; and whether the labels were really
# "saved" depends on who paid for the generator's own training data.
#
# **Learning objectives.** After this notebook you can
#
# 1. design a fair synthetic-data experiment: fixed test set, several seeds, a control
#    condition, and confidence intervals;
# 2. measure a conditional generator's samples for quality and diversity, and train a
#    classifier on samples alone (the "classification accuracy score");
# 3. convert an accuracy gain into labels saved at equal accuracy, and into money;
# 4. say honestly when synthetic data helps, when it does not, and why.

# %%
import numpy as np
import torch

from aigc_course import by_mode, setup

session = setup(
    "07_case_synthetic_data",
    data=["mnist"],
    runtime={"smoke": "20 s", "workshop": "1 min", "full": "3 min"},
)

# %% [markdown]
# ## The experiment
#
# * **Task.** Classify handwritten digits; accuracy on the fixed test split.
# * **Budget.** $n$ labelled training images per class, drawn at random (stratified).
# * **Classifier.** A small MLP trained full-batch (`business.labelling.fit_classifier`),
#   cheap enough to train dozens of times; the question is how accuracy moves with the
#   data, not how high a large network goes.
# * **Seeds.** Every configuration is repeated with several seeds (a different labelled
#   subset and initialisation each time); figures are means with 95 % intervals.
# * **Conditions.** real labels only, and real labels plus 50 synthetic images per class
#   from each generator below, plus a **control**.

# %%
from aigc_course.data import load_mnist

data = load_mnist()
budgets = by_mode(smoke=[5, 20], workshop=[5, 10, 20, 50], full=[5, 10, 20, 50, 100])
seeds = list(range(by_mode(smoke=2, workshop=3, full=5)))
steps = by_mode(smoke=60, workshop=150, full=300)  # classifier optimisation steps
synthetic_per_class = 50
print(f"budgets {budgets} labels/class, seeds {seeds}, {steps} steps, data {data.source}")

# %% [markdown]
# ## Two generators, and who paid for their labels
#
# 1. **The GAN chapter's class-conditional DCGAN** (committed checkpoint `cdcgan_mnist`).
#    It was trained on **all 4,000 labelled training digits**. Adding its samples to a
#    5-label classifier therefore brings in knowledge from 4,000 labels. That is a real
#    saving only if someone else paid for them: a vendor's model, a public dataset, a
#    sister product. Treat it as "a generator you bought".
# 2. **A class-conditional mixture trained on the same few labels** (the Bernoulli
#    mixture of notebook 00, one per class). This is the honest in-budget generator: it
#    has seen nothing the classifier has not.
#
# > **Common mistake.** Training the generator on the labelled data of the very task
# > whose labels it claims to save, on more labels than the classifier is allowed, and
# > then reporting the gain as free. The generator's training labels count.

# %%
from aigc_course.business.labelling import balanced_labels
from aigc_course.loading import load_pretrained
from aigc_course.models.gan import sample_images

G, g_meta = load_pretrained("cdcgan_mnist", session.device)
y_synth = balanced_labels(synthetic_per_class)
x_gan = sample_images(
    G, len(y_synth), labels=y_synth, seed=1
)  # drawn on G's device, kept on the CPU
print(
    f"cDCGAN: trained in {g_meta['mode']} mode on {g_meta['data_source']}; "
    f"{len(x_gan)} samples, {tuple(x_gan.shape[1:])}"
)

# %% [markdown]
# The mixture generator is fitted per class on the few labelled images of that class
# (components = at most 3, fewer when a class has fewer images).

# %%
from aigc_course.models.bernoulli_mixture import MixtureConfig, fit_mixture


def mixture_samples(x_few, y_few, per_class, seed):
    out = []
    for c in range(10):
        xc = (x_few[y_few == c].flatten(1) > 0.5).float()
        cfg = MixtureConfig(n_components=min(3, len(xc)))
        gen = torch.Generator().manual_seed(seed * 10 + c)
        model, _ = fit_mixture(xc, cfg, n_iter=10, generator=gen)
        out.append(model.sample(per_class, gen).view(-1, 1, 28, 28))
    return torch.cat(out)


# %% [markdown]
# ## How good are the synthetic digits?
#
# Before training on samples, measure them with the GAN chapter's instrument: the
# course's MNIST classifier (trained on real digits) tells whether a sample is recognisably
# the digit that was asked for (**conditional accuracy**), how far the sample features
# are from real test digits (**classifier FID**, lower is better), and whether the classes
# are balanced (**entropy** of predicted classes, 3.32 bits at best). We also train our
# small MLP on **samples alone** and test it on real digits: the *classification accuracy
# score* (Ravuri & Vinyals 2019), which rewards both quality and diversity.

# %%
from aigc_course.business.labelling import few_labels, fit_classifier, test_accuracy
from aigc_course.metrics.image import conditional_accuracy, reference_stats, score_images

judge, judge_meta = load_pretrained("mnist_classifier", session.device)
ref = reference_stats(judge, data.x_test)
x_few, y_few = few_labels(data.x_train, data.y_train, max(budgets), seed=0)
x_mix = mixture_samples(x_few, y_few, synthetic_per_class, seed=0)
quality = {}
for name, x in (("real (few)", x_few), ("cDCGAN", x_gan), (f"mixture of {max(budgets)}", x_mix)):
    y = y_few if name.startswith("real") else y_synth
    s = score_images(judge, x, ref)
    cas = test_accuracy(fit_classifier(x, y, steps=steps, seed=0), data.x_test, data.y_test)
    quality[name] = (conditional_accuracy(judge, x, y), s.fid, s.entropy, cas)
    print(
        f"{name:14s} cond. acc {quality[name][0]:.2f}  FID {s.fid:7.1f}  "
        f"entropy {s.entropy:.2f} bits  CAS {cas:.2f}"
    )

# %% [markdown]
# One sample of each digit, 0 to 9 (read left to right, top to bottom), from each source:

# %%
import matplotlib.pyplot as plt

from aigc_course.plot import show_images

pick = torch.arange(10) * synthetic_per_class  # the first sample of each class
real_pick = torch.stack([torch.nonzero(y_few == c)[0, 0] for c in range(10)])
fig, axes = plt.subplots(1, 3, figsize=(9, 3.4))
for ax, (title, imgs) in zip(
    axes,
    (("real", x_few[real_pick]), ("cDCGAN", x_gan[pick]), ("mixture", x_mix[pick])),
    strict=True,
):
    show_images(imgs, nrow=5, ax=ax, title=title)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Running the experiment
#
# For each budget and seed: draw the labelled subset, then train one classifier per
# condition. The **control** uses the same cDCGAN images with their labels *shuffled*:
# if it helped as much as the real condition, the gain would come from extra images as
# such (a regularisation effect), not from what the generator knows about digits.

# %%
import time

from aigc_course.business.labelling import Run

gen = torch.Generator().manual_seed(123)
y_shuffled = y_synth[torch.randperm(len(y_synth), generator=gen)]
runs, start = [], time.perf_counter()
for per in budgets:
    for seed in seeds:
        x, y = few_labels(data.x_train, data.y_train, per, seed=seed)
        x_m = mixture_samples(x, y, synthetic_per_class, seed)
        for condition, (xs, ys) in {
            "real only": (x[:0], y[:0]),
            "+ cDCGAN (bought)": (x_gan, y_synth),
            "+ cDCGAN, labels shuffled": (x_gan, y_shuffled),
            "+ mixture of the few": (x_m, y_synth),
        }.items():
            clf = fit_classifier(torch.cat([x, xs]), torch.cat([y, ys]), steps=steps, seed=seed)
            runs.append(Run(condition, per, seed, test_accuracy(clf, data.x_test, data.y_test)))
print(f"{len(runs)} classifiers in {time.perf_counter() - start:.0f} s")

# %% [markdown]
# ## Results: accuracy against labels, with 95 % intervals

# %%
from aigc_course.business.labelling import learning_curve
from aigc_course.business.stats import mean_interval

conditions = list(dict.fromkeys(r.condition for r in runs))
summary = {}
print(f"{'condition':27s}" + "".join(f"{p:>18d}" for p in budgets) + "   (labels/class)")
for cond in conditions:
    cells = []
    for per in budgets:
        accs = [r.accuracy for r in runs if r.condition == cond and r.per_class == per]
        mean, lo, hi = mean_interval(accs)
        summary[cond, per] = (mean, lo, hi)
        cells.append(f"{mean:.3f} [{lo:.2f},{hi:.2f}]")
    print(f"{cond:27s}" + "".join(f"{c:>18s}" for c in cells))

# %% [markdown]
# The same numbers as learning curves. Where two curves' intervals overlap, this
# experiment cannot tell the conditions apart; more seeds would narrow them.

# %%
fig, ax = plt.subplots(figsize=(7, 3.8))
for cond in conditions:
    m = np.array([summary[cond, p] for p in budgets])
    ax.errorbar(
        budgets,
        m[:, 0],
        yerr=[m[:, 0] - m[:, 1], m[:, 2] - m[:, 0]],
        marker="o",
        capsize=3,
        label=cond,
    )
ax.set_xscale("log")
ax.set_xticks(budgets, [str(b) for b in budgets])
ax.set_xlabel("real labelled images per class")
ax.set_ylabel("test accuracy (mean, 95% CI)")
ax.set_title(f"Few-label digit classification ({data.source}, {len(seeds)} seeds)")
ax.legend(frameon=False, fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# **Check.** Whatever the generators do, the experiment itself must behave: more real
# labels must help the real-only classifier, whose every run must be far above chance
# (0.1). The control may fall lower: shuffled labels are wrong labels.

# %%
real = learning_curve(runs, "real only")[1]
assert real[-1] > real[0] + 0.05, real  # more labels, better classifier
assert all(r.accuracy > 0.4 for r in runs if r.condition == "real only")
assert len(runs) == len(budgets) * len(seeds) * len(conditions)

# %% [markdown]
# ## From accuracy to labels saved, and to money
#
# For each budget, the **labels saved** by a condition is the number of extra real
# labels the real-only classifier would need to reach the same mean accuracy
# (interpolated between measured budgets on a log scale), times ten classes. A negative
# number means the synthetic data hurt; "beyond" means the gain exceeded the largest
# budget measured, which we refuse to extrapolate into money. The price of one label is
# yours to set.

# %%
from aigc_course.business.labelling import labels_saved

cost_per_label = 0.50  # currency per labelled image: editable (expert labels cost far more)
for cond in conditions[1:]:
    parts = []
    for per, saved in labels_saved(runs, cond):
        if np.isinf(saved):  # above the whole real-only curve: only a lower bound is known
            parts.append(
                f"{per}/class: at least {10 * (max(budgets) - per):+d} labels "
                "(above the measured curve)"
            )
        elif np.isnan(saved):
            parts.append(f"{per}/class: worse than real-only at {budgets[0]}")
        else:
            parts.append(f"{per}/class: {saved:+.0f} labels ({saved * cost_per_label:+.0f})")
    print(f"{cond}:\n    " + "\n    ".join(parts))

# %% [markdown]
# **Check.** The two findings the text below relies on: the bought generator raises
# accuracy at the smallest budget (paired over the same labelled subsets), and the
# control with shuffled labels is worse than real-only at every budget.

# %%
small = budgets[0]
gain_small = summary["+ cDCGAN (bought)", small][0] - summary["real only", small][0]
assert gain_small > 0.03, gain_small
assert all(summary["+ cDCGAN, labels shuffled", p][0] < summary["real only", p][0] for p in budgets)
print(f"gain of the bought generator at {small} labels/class: {gain_small:+.3f}")

# %% [markdown]
# ## What the numbers say
#
# Read the table and the figure above (your numbers may differ a little with the mode and
# the data source; the intervals tell you by how much):
#
# * **The bought generator helps most where labels are scarcest**, and its advantage
#   shrinks as real labels grow: at 50 labels per class the real data already carry most
#   of what its samples add. Its samples are recognisable digits (high conditional
#   accuracy) but less varied than real ones (a higher FID; a classifier trained on them
#   alone scores below one trained on real digits), so they cannot replace real data.
# * **The control** tells whether the gain is knowledge or regularisation: with shuffled
#   labels the same images no longer carry the digits' identities, and accuracy
#   collapses far below real-only. The gain comes from what the generator knows about
#   each digit, not from having more images.
# * **The in-budget generator** (a mixture fitted on the same few labels) has nothing
#   to add that the classifier could not learn itself; its samples are noisy copies of
#   the few real ones.
#
# The business conclusion: synthetic data saves labelling cost when the generator carries
# knowledge you did not have to pay for, and mostly in the low-label regime. Before
# buying the story, run this experiment on your own task, with a control.

# %% [markdown]
# ## Exercises
#
# Write each answer in the cell under its task, then run the self-check below it. The
# solutions are hidden: in a new cell, `from aigc_course.exercises import show_solution`
# and `show_solution("07.paired_gain")` (or the other id) print one when you want it.
#
# **Exercise 1 (is the gain real?).** Each seed gives one accuracy for "real only" and one
# for "+ cDCGAN (bought)" at the smallest budget, on the same labelled subset: a *paired*
# comparison. Compute the mean paired gain and its 95 % interval into `gain, gain_lo,
# gain_hi` (use `mean_interval` on the per-seed differences; `runs` holds every run).

# %%
gain, gain_lo, gain_hi = None, None, None  # the mean paired gain and its 95 % interval

# %% [markdown]
# Self-check:

# %%
from aigc_course.exercises import check

check("07.paired_gain", (gain, gain_lo, gain_hi), runs=runs, budgets=budgets)

# %% [markdown]
# **Exercise 2 (the price of a label).** Expert annotation (say medical images) can cost
# 5.00 per label. Store in `value_expert` the money saved by the bought generator at the
# smallest budget at that price (0 if it saved nothing or the saving is not measurable).

# %%
value_expert = None  # money saved at 5.00 per label, smallest budget

# %% [markdown]
# Self-check:

# %%
check("07.expert_value", value_expert, runs=runs, budgets=budgets)

# %% [markdown]
# ## Summary
#
# * A fair synthetic-data experiment fixes the test set, repeats over seeds, reports
#   intervals, and includes a control (same images, shuffled labels).
# * A generator trained on more labels than the classifier may use raises few-label
#   accuracy; the gain shrinks as real labels grow, and it is a saving only if its own
#   labels were free to you.
# * A generator trained on the same few labels adds nothing the labels did not already
#   contain.
# * Labels saved at equal accuracy, times the price of a label, is the business figure;
#   it is interpolated within the measured range, never extrapolated.
#
# ## References
#
# * S. Ravuri, O. Vinyals, "Classification accuracy score for conditional generative
#   models", NeurIPS 2019.
# * K. Shmelkov, C. Schmid, K. Alahari, "How good is my GAN?", ECCV 2018.
# * A. Antoniou, A. Storkey, H. Edwards, "Data augmentation generative adversarial
#   networks", arXiv:1711.04340, 2017.
# * M. Mirza, S. Osindero, "Conditional generative adversarial nets", arXiv:1411.1784, 2014.
