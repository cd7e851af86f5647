# ---
# jupyter:
#   jupytext:
#     formats: notebooks///ipynb,nbsrc///py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · DeepDream studio: gradient ascent on the input
#
# Part 2.2 of the homework turns backpropagation around: the network's weights stay fixed and the
# **image** is the parameter. Starting from noise — or, as Simonyan et al. (2013) do, from the average
# training image — we follow the gradient of a class logit with respect to the pixels, so the image
# drifts towards whatever the network considers most "7"-like (Simonyan et al., 2013; Mordvintsev,
# Olah and Tyka, 2015):
#
# $$x \leftarrow x + \eta\,\frac{\partial\, z_{\text{label}}(\text{normalize}(\text{jitter}(x)))}{\partial x}$$
#
# Raw gradient ascent produces high-frequency noise that the network likes and people cannot read.
# The homework lists the extra-credit tricks that make the pictures readable — blurring the image,
# clamping pixels, weight decay, blurring the gradient, working at several scales — plus the
# middle-layer visualizations. `gd.py` implements all of them; this notebook puts each on a slider.
#
# Everything here runs offline on the project's **two embedded digits CNNs** (trained on
# scikit-learn's 8×8 digits, upsampled to 32×32), where one preview takes a fraction of a second on a
# CPU. They share one architecture and differ only in how they were trained: `digits`
# (`models/digits_cnn.pt`) was trained adversarially, to resist small worst-case changes of its
# input; `digits_standard` (`models/digits_standard_cnn.pt`) was trained the ordinary way, as the
# course's VGG was. The difference decides how much the tricks matter — the section "Why the tricks
# matter so much…" below. With torchvision and the ImageNet weights of `vgg13_bn` available, the
# studio offers that model too.
#
# **If you are reading this on a static renderer** (GitHub, nbviewer): the interactive panel below is
# not shown there, but every figure after it — the galleries, the ablation grids, dreaming on a
# picture, middle layers — is an ordinary image stored in the notebook.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import dream
import gd
from dream import studio
from lab.figures import save_figure

torch.manual_seed(0)
np.random.seed(0)
model, info = dream.load_model("digits")                       # robust (adversarially trained)
std_model, std_info = dream.load_model("digits_standard")      # the same network, standard training
for i in (info, std_info):
    print(f"model {i.name}: input {i.input_size}, {len(i.class_names)} classes, "
          f"middle layers {dict(i.channels)} (name: channels)")

# %% [markdown]
# ## The course's function, first
#
# The grader calls `gradient_descent(input, model, loss, iterations=256)` with
# `loss = lambda t: t[0, label].mean()` — the class **logit** — and the homework's hint that a low energy means a high logit. So the function must make that value
# go **up**. A quick
# check on the digits model, from the course's gray-noise start: the logit must rise, and the model
# must come back exactly as it was (eval mode used inside, weights untouched).

# %%
label = 7
loss = lambda t: t[0, label].mean()
g = torch.Generator().manual_seed(0)
start = ((torch.randn(1, 32, 32, 3, generator=g) * 8 + 128) / 255).permute(0, 3, 1, 2)   # the course's start, 32 px
weights_before = {k: v.clone() for k, v in model.state_dict().items()}

with dream.limit_threads(1):
    out = gd.gradient_descent(start, model, loss, iterations=64)
with torch.no_grad():
    before = loss(model(gd.normalize_and_jitter(start, 0))).item()
    after = loss(model(gd.normalize_and_jitter(out, 0))).item()
p_course, p_norm = dream.class_probability(model, out, label, info)
print(f"logit of class {label}: {before:.1f} -> {after:.1f}")
print(f"p(class {label}) after 64 steps: {p_norm:.2f} on the normalized image "
      f"(the course's main() scores the raw image: {p_course:.2f})")
assert after > before + 5 and p_norm > 0.9
assert all(torch.equal(v, model.state_dict()[k]) for k, v in weights_before.items())
assert tuple(out.shape) == (1, 3, 32, 32) and 0 <= out.min() and out.max() <= 1

# %% [markdown]
# ## The tricks, and the knob for each
#
# | trick (homework) | `dream.Settings` field | what it does to the image $x$ after each step |
# |---|---|---|
# | step size | `lr` | $x \leftarrow x + \eta\,g$ |
# | step rule | `step_rule` | `plain`: $\eta g$; `normalized`: $\eta\,g / \operatorname{mean}\lvert g\rvert$ — the step size no longer depends on how large the logit's gradient happens to be |
# | jitter | `jitter` | roll the image by a random shift of up to ±`jitter` px before each forward pass (`normalize_and_jitter`) |
# | 1. blur the image | `blur_every`, `blur_sigma` | Gaussian blur with σ = `blur_sigma` px every `blur_every` steps |
# | 2. clamp | `clamp` | $x \leftarrow \operatorname{clip}(x, 0, 1)$ |
# | 3. weight decay | `weight_decay` | $x \leftarrow x - \lambda\,(x - x_0)$ (pulls towards a plain background $x_0$) |
# | 4. blur the gradient | `grad_blur_sigma` | Gaussian blur of $g$ before the step |
# | 5. multiple scales | `octaves`, `octave_scale` | optimize a small image first, upscale by `octave_scale`, continue |
# | middle layers | objective | a channel's mean activation, or a whole layer's mean squared activation (DeepDream) |
#
# ## The studio
#
# Move a slider and the preview re-runs (debounced) — at the default settings a preview takes well
# under a second here. **Run** starts a run, **Stop** ends it at the next preview update, **Ablation
# grid** runs the current target in both directions: each trick switched off in turn, and each
# trick switched on alone. The **model** menu offers the two embedded digits models: the robust
# one (the default) and the same network trained the standard way — switch between them to see
# how much the tricks matter for each.
#
# The metric line shows the course's probability (`p_course`, on the raw image, as the course's
# `main()` computes it, and `p_normalized`, on the normalized image the network expects) and the
# **independent judge** (`dream.recognize_digits`): classifiers trained on the real 8×8 digits — not
# the CNN — that either read the picture as a digit ("reads as 7") or reject it ("no digit"). A
# picture that only the CNN calls a 7 is an adversarial pattern, not a 7.
#
# "start from" offers seeded gray *noise*, the *mean image* (the average of all 1797 training digits,
# plus the same faint noise: the digits default), or a *picture*: dream on a real digit from
# `load_digits`, or upload your own image. The optimization runs in a background thread, so the panel
# stays responsive while it works. (`make studio` serves the same panel alone, without code, as a web
# page: `notebooks/studio_app.ipynb` through Voilà.)

# %%
from dream.studio import Studio

panel = Studio()       # both digits models in the menu; vgg13_bn too when it can be loaded
panel.show()

# %% [markdown]
# ## Gallery: two models, tricks on and off
#
# The same code as the studio's **Run** (`dream.visualize`, seed 0), once per class, for both models
# and two settings: the defaults (`dream.default_settings`, every trick on — the same settings for
# both models) and `dream.all_tricks_off` of them. Under each image: the network's probability `p`, the
# judge's verdict, the share of the picture's energy at high spatial frequencies (**HF**: above 8
# cycles per image width; a real digit has almost none) and its total variation (**TV**: how often
# a line through the standardized picture flips between ink and background; a real digit ≈ 4).

# %%
settings = dream.default_settings("digits")
std_settings = dream.default_settings("digits_standard")
gallery_rows = [("robust\nall tricks on", model, info, settings),
                ("robust\nall tricks off", model, info, dream.all_tricks_off(settings)),
                ("standard\nall tricks on", std_model, std_info, std_settings),
                ("standard\nall tricks off", std_model, std_info, dream.all_tricks_off(std_settings))]
fig, galleries = studio.gallery_grid(gallery_rows)
save_figure(fig, "studio_gallery")
plt.show()


def summary(metrics, results):
    """One line of numbers for a row of tiles (studio.tile_metrics dicts and results, one per class)."""
    read = sum(m["reads_as"] == d for d, m in enumerate(metrics))
    rejected = sum(m["reads_as"] == dream.NO_DIGIT for m in metrics)
    contrast = np.median([r.image.std().item() for r in results.values()])
    return (f"read {read:>2}/10, no digit {rejected:>2}/10, "
            f"median HF {np.median([m['hf'] for m in metrics]):.3f}, median TV {np.median([m['tv'] for m in metrics]):4.1f}, "
            f"median std {contrast:.2f}, min p {min(m['p'] for m in metrics):.2f}")


for (title, *_), metrics in zip(gallery_rows, fig.tile_metrics):
    print(f"{title.replace(chr(10), ', '):<26} {summary(metrics, galleries[title])}")
gallery = galleries[gallery_rows[0][0]]
assert sum(m["reads_as"] == d for d, m in enumerate(fig.tile_metrics[0])) >= 8, \
    "the default settings should give readable digits on the robust model for (almost) every class"

# %% [markdown]
# What the gallery shows (numbers under each tile and, per row, in the lines printed below the
# figure; `std` is the picture's contrast). The judge is strict: it reads a picture only if it has
# contrast, no pixel noise, and two of its three classifiers agree on a digit.
#
# * **Robust model, all tricks on**: ten digits a person reads at once, smooth (median HF 0.005);
#   the judge reads 9 of them and rejects the slanted, hooked 1.
# * **Robust model, all tricks off**: the same ten digits, dim and speckled — you can still make out
#   the 2, 4, 5 and 8 — with over ten times the high-frequency share (median 0.066); the judge rejects all
#   ten for that pixel noise.
# * **Standard model, all tricks on**: smooth, bright **blobs** (median HF 0.003, as smooth as the
#   robust digits) — dark holes in a gray field that a person does not read as digits. The judge
#   rejects nine of them, the "0" too: a gray field around a dark hole is not ink on a dark ground,
#   which every real digit is. It reads only the 8, a bright hourglass on black.
# * **Standard model, all tricks off**: faint blocky texture (median HF 0.052, about 17 times the
#   share with tricks on, at less than half the contrast: std 0.08 vs 0.19) — no digit anywhere.
#
# The network's probability `p` is 1.00 on **every** one of the forty pictures: the course's
# metric says nothing about whether a person would see the class.

# %% [markdown]
# ## Ablation in both directions: what each trick buys
#
# Same target (class 3), same seed, same start, for each model. Two rows per model, the robust
# model's first:
#
# * **leave-one-out**: all tricks on, then each trick of `dream.TRICKS` switched **off** in
#   turn (`mean_start` off: start from gray noise instead of the average digit), then all off —
#   what each trick is worth *among the others*;
# * **add-one-in**: all tricks off, then each trick switched **on** alone, then all
#   on — what each trick buys *by itself*.
#
# Under each tile, its numbers (as in the gallery): `p`, the judge's verdict, HF and TV.

# %%
models = {"robust": (model, info, settings), "standard": (std_model, std_info, std_settings)}
ablation_rows = [(f"{name}, class 3\n{d.replace('_', '-')}", m_, i_,
                  dream.run_ablation(m_, dream.ClassLogit(3), s_, d, info=i_))
                 for name, (m_, i_, s_) in models.items() for d in dream.ABLATIONS]
fig = studio.ablation_figure(ablation_rows, labels=[3] * len(ablation_rows),
                             title="Class 3, both models: leave-one-out and add-one-in")
save_figure(fig, "ablation_grid")
plt.show()
ablations = {name: ([row[3] for row in ablation_rows[2 * k:2 * k + 2]], fig.tile_metrics[2 * k:2 * k + 2])
             for k, name in enumerate(models)}

# %%
def cell(m, res):
    verdict = "none" if m["reads_as"] == dream.NO_DIGIT else str(m["reads_as"])
    return f"{verdict:>5} {m['hf']:6.3f} {m['tv']:5.1f} {res.image.std().item():5.2f}"


for name, (rows, metrics) in ablations.items():
    print(f"{name} model, class 3 -- leave-one-out: reads    HF    TV  std  |  add-one-in:  reads    HF    TV  std")
    for (t1, _, r1), m1, (t2, _, r2), m2 in zip(rows[0], metrics[0], rows[1], metrics[1]):
        print(f"  {t1:<22} {cell(m1, r1)}  |  {t2:<19} {cell(m2, r2)}")
std_metrics = ablations["standard"][1]
on, off = std_metrics[0][0], std_metrics[0][-1]
print(f"standard model, all tricks on vs off: HF {on['hf']:.3f} vs {off['hf']:.3f}, TV {on['tv']:.1f} vs {off['tv']:.1f}")
assert off["hf"] > 5 * on["hf"], "on the standard model, all tricks off should be far richer in high frequencies"

# %% [markdown]
# What the grids show (class 3; the table above has the numbers, `std` is the picture's contrast):
#
# * **Robust model, leave-one-out**: every column with one trick missing still reads as 3, with a
#   high-frequency share of 0.006 or less. No single trick is indispensable here: the tricks overlap,
#   and the network's own gradients already point towards strokes. Only *all* off loses the digit
#   (HF 0.087, rejected).
# * **Robust model, add-one-in**: from all off (a dim, speckled 3, rejected), **jitter alone** is
#   enough to get a 3 the judge reads (HF 0.087 → 0.005), and so are **octaves alone** (HF 0.028). The
#   **normalized step alone** gives a coarse, saturated 3 made of pixel blocks (contrast 0.94): a
#   person sees the 3, but it is pixel noise to the judge (HF 0.089). Clamp alone changes nothing.
# * **Standard model, leave-one-out**: *no* column reads as a digit. With all tricks on the picture
#   is a smooth pattern of dark holes (HF 0.002) — the tricks have removed the noise, but what is
#   left is what a standard network finds most "3"-like, which is not a 3 to us. Each single trick
#   left out changes the blobs a little (no clamp: darker holes; no weight decay: a brighter field).
# * **Standard model, add-one-in**: all off is a dim blocky texture (HF 0.072); **jitter alone**
#   smooths it (HF 0.004), **octaves alone** give a brighter, smooth picture (HF 0.010) that the
#   judge reads as 3 — to the eye it is the same holes-and-bands pattern as its neighbours, so
#   count this one as the judge's mistake; the **normalized step alone** shows the standard network's raw gradient at full
#   contrast: bands of saturated pixel blocks (HF 0.072, contrast 0.88) — the course's "messy, full of
#   high-frequency noise" in miniature.
# * **All tricks on vs all off on the standard model** differ both to the eye (bright smooth blobs vs
#   a dim blocky texture) and by the numbers: HF 0.002 vs 0.072, contrast 0.18 vs 0.09.
#
# **The plain step, reconciled.** The `plain step` column (every other trick on) and `all tricks off`
# (plain step included) both use steps $\eta\,g$ with $\eta = 0.05$, and a logit's gradient with
# respect to the pixels is small: both pictures are faint (contrast 0.04 and 0.07, against 0.29 with
# all tricks). What separates them is what the *other* tricks do to those small steps. With jitter,
# blurs and octaves on, the faint picture stays smooth — a dim but clean 3 (HF 0.002) that the judge
# reads after stretching its contrast; weight decay keeps it dim by pulling it back towards black
# every step (add-one-in: weight decay alone, contrast 0.04). With nothing on, the small steps carry
# the gradient's pixel-level noise into the picture (HF 0.087), and the judge rejects it. Normalizing the step
# (`step_rule="normalized"`: $\eta\,g/\operatorname{mean}|g|$) is what makes $\eta$ mean "pixels per
# step", and turns both faint pictures into full-contrast ones.

# %% [markdown]
# ## Why the tricks matter so much for VGG and the standard model, and little for the robust one
#
# A gradient step on the input answers one question: which small change of the pixels raises this
# logit fastest? The answer depends on what the network has learnt to rely on.
#
# * **A standard network relies on features we cannot see.** Ilyas et al. (2019, "Adversarial
#   Examples Are Not Bugs, They Are Features") argue that standardly trained classifiers use
#   *non-robust features*: faint, mostly high-frequency pixel patterns that genuinely predict the
#   label in the training data but that people do not perceive, and that a tiny perturbation can
#   flip. The steepest way up the logit runs through them, so raw gradient ascent paints texture,
#   not objects. That is the course's experience with VGG-13 on ImageNet, and the standard digits
#   model shows it in miniature: its normalized step alone gives bands of pixel blocks the network
#   calls a 3 with p = 1.00.
# * **The tricks are a prior made by hand.** Jitter, blurring the image or the gradient, and octaves
#   all damp pixel-level directions: a pattern that has to survive random shifts and repeated
#   blurring must be coarse. On the standard model they take the high-frequency share from 0.072
#   to 0.002. But look at what is left: smooth blobs, not digits (9 of 10 rejected). The tricks can
#   remove the noise; they cannot add what the network never learnt to depend on. For VGG the same
#   prior is what turns noise into the recognisable textures and object parts of DeepDream
#   pictures, which is why the homework lists them.
# * **Adversarial training puts the prior into the network.** The robust model was trained on
#   worst-case perturbations of its inputs (L2 PGD, `tools/train_digits.py`), so small changes of
#   the pixels cannot move its decision much; it had to base its decisions on features that
#   survive such changes — strokes. Its input gradients are then *perceptually aligned*: a step
#   along them makes the picture look more like the class to a person too. Santurkar et al. (2019,
#   "Image Synthesis with a Single (Robust) Classifier") build generation, inpainting and
#   super-resolution from nothing more than gradient steps on one robust classifier; Engstrom et
#   al. (2019, "Adversarial Robustness as a Prior for Learned Representations") show that robust
#   representations can be inverted and their features visualized directly, without the
#   regularizers standard models need. Here: leaving out any single trick still gives a readable 3,
#   and even with all tricks off the robust model draws the strokes of its digits in the right
#   places — dim and speckled, but there — where the standard model's show hardly a trace of one.
#
# So the tricks matter most where the network's gradients are least like what we see (VGG, the
# standard digits model), and least where training has already aligned them with our perception
# (the robust model). Try it in the studio: pick **digits (standard training)** in the model menu,
# switch the step rule to `plain` and the tricks off one by one, then do the same on the robust
# model.

# %% [markdown]
# ## Dreaming on a picture
#
# Start from a real handwritten 3 from `load_digits` instead of noise, and ascend the logit of 8:
# within 48 steps the picture turns into the network's idea of an 8 (little of the 3 survives at
# this step size — lower `lr` or `iterations` in the studio to keep more of it). Then the same start
# with a **middle-layer** objective (`LayerDream("act2")`: the mean squared activation of the second
# conv block, the DeepDream objective): the 3's strokes are replaced by the horizontal bands that
# layer responds to most strongly.

# %%
pictures = studio.shipped_pictures()
three = pictures["a real 3 (load_digits #3)"]
with dream.limit_threads(1):
    to_eight = dream.visualize(model, dream.ClassLogit(8), info=info, settings=settings.replace(iterations=48), init=three)
    layer_dream = dream.visualize(model, dream.LayerDream("act2"), info=info, settings=settings.replace(iterations=48),
                                  init=three)

fig, axes = plt.subplots(1, 3, figsize=(8.5, 3.3))
for ax, (title, img) in zip(axes, [("start: a real 3", three), ("ascend class 8 (48 steps)", to_eight.image),
                                   ("LayerDream('act2') (48 steps)", layer_dream.image)]):
    ax.imshow(img[0].permute(1, 2, 0).numpy(), interpolation="nearest")
    m = studio.describe(model, info, img, 8)
    ax.set(title=f"{title}\nreads {dream.recognize_digits(img)[0]}, p(8)={m['p_normalized']:.2f}", xticks=[], yticks=[])
    ax.title.set_fontsize(10)
fig.suptitle("Dreaming on a picture (32×32 px)", fontsize=11)
fig.tight_layout(rect=(0, 0, 1, 0.93))
plt.show()

r3, r8 = dream.recognize_digits([three, to_eight.image])
p8_before = dream.class_probability(model, three, 8, info)[1]
p8_after = dream.class_probability(model, to_eight.image, 8, info)[1]
print(f"the start reads as {r3}; after ascending class 8 it reads as {r8}; p(8): {p8_before:.2f} -> {p8_after:.2f}")
assert r3 == 3 and p8_after > 0.9 > p8_before

# %% [markdown]
# ## Middle layers: what single channels respond to
#
# `LayerChannel(layer, c)` maximizes the mean activation of one channel. In the first block (`act1`,
# 16 channels of 3×3 filters on a 16×16 map) the pictures are fine oriented gratings and plain
# bright or dark patches — what a 3×3 filter can see; in the last block (`act3`, a 4×4 map seeing the whole image)
# they are larger strokes: horizontal bars and diagonals, the parts digits are made of. The studio's
# layer and channel pickers do the same.

# %%
layer_settings = settings.replace(iterations=64)
picks = [("act1", ch) for ch in range(4)] + [("act3", ch) for ch in range(4)]
with dream.limit_threads(1):
    channel_runs = [dream.visualize(model, dream.LayerChannel(layer, ch), info=info, settings=layer_settings)
                    for layer, ch in picks]
fig, axes = plt.subplots(1, len(picks), figsize=(1.7 * len(picks), 2.4))
for ax, (layer, ch), r in zip(axes, picks, channel_runs):
    ax.imshow(r.image[0].permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_title(f"{layer} ch {ch}", fontsize=10)
    ax.set_xticks([]), ax.set_yticks([])
fig.suptitle("Channel visualizations (64 steps each, default tricks)", fontsize=11)
fig.tight_layout(rect=(0, 0, 1, 0.92))
plt.show()
gains = [r.values[-1] - r.values[0] for r in channel_runs]
print("objective rose in", sum(g > 0 for g in gains), "of", len(gains), "channel runs")
assert all(g > 0 for g in gains)

# %% [markdown]
# ## Summary
#
# * `gd.gradient_descent` climbs the logit the course asks for and leaves the model as it found it.
# * The studio binds every trick of `dream.Settings` to a widget, runs in a background thread (Stop
#   works, sliders re-run the preview), and reports the course's probability next to an
#   independent judge that can say "no digit" — the difference between the two is the lesson of the
#   galleries and the ablation grids.
# * Two models with one architecture: on the standard-trained one the tricks decide between pixel
#   noise and smooth (but unreadable) blobs; on the adversarially trained one they only polish
#   digits its gradients already draw. The ablation in both directions measures what each trick is
#   worth among the others and what it buys alone.
# * `tests/test_browser.py` opens this notebook in a real JupyterLab in headless Chromium, moves a
#   slider, presses Run, and checks that the preview and the metric change; it does the same for the
#   standalone studio page that `make studio` serves with Voilà.
