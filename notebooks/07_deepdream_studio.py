# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
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
# Everything here runs offline on the project's **embedded digits CNN** (trained on scikit-learn's
# 8×8 digits, upsampled to 32×32 — `models/digits_cnn.pt`), where one preview takes a fraction of a
# second on a CPU. With torchvision and the ImageNet weights of `vgg13_bn` available, the studio
# offers that model too.
#
# **If you are reading this on a static renderer** (GitHub, nbviewer): the interactive panel below is
# not shown there, but every figure after it — the gallery, the ablation grid, dreaming on a picture,
# middle layers — is an ordinary image stored in the notebook.

# %%
import sys, pathlib; sys.path.insert(0, str(pathlib.Path.cwd().resolve().parent))
import matplotlib.pyplot as plt
import numpy as np
import torch

import gd
from lab import studio
from lab.figures import save_figure

torch.manual_seed(0)
np.random.seed(0)
model, info = gd.load_model("digits")
print(f"model {info.name}: input {info.input_size}, {len(info.class_names)} classes, "
      f"middle layers {dict(info.channels)} (name: channels)")

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

with studio.single_thread():
    out = gd.gradient_descent(start, model, loss, iterations=64)
with torch.no_grad():
    before = loss(model(gd.normalize_and_jitter(start, 0))).item()
    after = loss(model(gd.normalize_and_jitter(out, 0))).item()
p_course, p_norm = gd.class_probability(model, out, label, info)
print(f"logit of class {label}: {before:.1f} -> {after:.1f}")
print(f"p(class {label}) after 64 steps: {p_norm:.2f} on the normalized image "
      f"(the course's main() scores the raw image: {p_course:.2f})")
assert after > before + 5 and p_norm > 0.9
assert all(torch.equal(v, model.state_dict()[k]) for k, v in weights_before.items())
assert tuple(out.shape) == (1, 3, 32, 32) and 0 <= out.min() and out.max() <= 1

# %% [markdown]
# ## The tricks, and the knob for each
#
# | trick (homework) | `gd.Settings` field | what it does to the image $x$ after each step |
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
# grid** runs the current target once per trick switched off. The metric line shows the course's
# probability (`p_course`, on the raw image, as the course's `main()` computes it, and
# `p_normalized`, on the normalized image the network expects) and the **recognizability check**:
# three scikit-learn classifiers trained on the real 8×8 digits — not the CNN — read the picture
# downsampled to 8×8. A picture that only the CNN calls a 7 is an adversarial pattern, not a 7.
#
# "start from" offers seeded gray *noise*, the *mean image* (the average of all 1797 training digits,
# plus the same faint noise: the digits default), or a *picture*: dream on a real digit from
# `load_digits`, or upload your own image. The optimization runs in a background thread, so the panel stays responsive while it works.

# %%
from lab.studio import Studio

panel = Studio()       # the embedded digits model; vgg13_bn appears in the menu when it can be loaded
panel.show()

# %% [markdown]
# ## Gallery: all ten digits at the default settings
#
# The same code as the studio's **Run** (`gd.visualize` with `gd.default_settings("digits")`, seed 0),
# once per class. Under each image: the network's probability and what the independent recognizers
# read.

# %%
settings = gd.default_settings("digits")
fig, gallery = studio.gallery_figure(model, info, settings)
save_figure(fig, "studio_gallery")
plt.show()

reads = gd.recognize_digits([gallery[d].image for d in range(10)])
for d in range(10):
    p_course, p_norm = gd.class_probability(model, gallery[d].image, d, info)
    print(f"class {d}: p_course {p_course:.2f}  p_normalized {p_norm:.2f}  reads as {reads[d]}")
n_read = sum(r == d for d, r in enumerate(reads))
print(f"{n_read} of 10 read as their class by the scikit-learn recognizers")
assert n_read >= 8, 'the default settings should give readable digits for (almost) every class'

# %% [markdown]
# ## Ablation grid: what each trick buys
#
# Same target, same seed, same start; each column switches **one** trick of `gd.TRICKS` off
# (`mean_start` off: start from gray noise instead of the average digit; last column: all of them).
# Two targets, 3 and 8.

# %%
rows = [(f"class {d}", studio.run_ablation(model, info, gd.ClassLogit(d), settings)) for d in (3, 8)]
fig = studio.ablation_figure(model, info, rows, labels=[3, 8])
save_figure(fig, "ablation_grid")
plt.show()

print(f"{'variant':<22} " + "  ".join(f"class {d}: p_norm reads robust" for d in (3, 8)))
unreadable = []
for i, (title, _s, _r) in enumerate(rows[0][1]):
    cols = []
    for d, (_, runs) in zip((3, 8), rows):
        m = studio.describe(model, info, runs[i][2].image, d)
        cols.append(f"{m['p_normalized']:>13.2f} {m['reads_as']:>5} {m['robustness']:>6.2f}")
        if m["reads_as"] != d:
            unreadable.append((d, title))
    print(f"{title:<22} " + "  ".join(cols))
print("not read as their class:", unreadable)
assert ("all tricks on" not in [t for _, t in unreadable]) and unreadable

# %% [markdown]
# What the grid shows:
#
# * `p_normalized` is ≈ 1.00 in **every** column: the course's metric cannot tell a readable digit from
#   a faint pattern — the network's confidence is easy to obtain.
# * The column that matters most at these settings is the **step rule**. With `plain` steps
#   ($\eta\,g$ with $\eta = 0.05$) the gradient of a logit with respect to the pixels is tiny, and the
#   image barely leaves its faint start: the network still names the class, the recognizers do not
#   (the list printed above), and a person sees a ghost. Normalizing the step makes $\eta$ mean
#   "pixels per step".
# * Switching off any one of the other tricks leaves a readable digit, but changes the strokes: no
#   clamp gives thinner strokes on a darker background (values outside [0, 1] are allowed during the
#   run and cut for display), no weight decay a brighter image overall; without the image blur, or
#   from a **noise start** instead of the average digit, the result barely changes here.
# * Even with **all** tricks off the strokes are in the right places — faint and speckled, but a 3 and
#   an 8. That is the model's doing more than the tricks': it was trained adversarially and with
#   cutout (`tools/train_digits.py`), which makes its input gradients look like digits (Santurkar et
#   al., 2019). The tricks overlap — several of them fight the same
#   high-frequency noise — which is why removing any single one costs little.

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
with studio.single_thread():
    to_eight = gd.visualize(model, gd.ClassLogit(8), info=info, settings=settings.replace(iterations=48), init=three)
    dream = gd.visualize(model, gd.LayerDream("act2"), info=info, settings=settings.replace(iterations=48), init=three)

fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.9))
for ax, (title, img) in zip(axes, [("start: a real 3", three), ("ascend class 8 (48 steps)", to_eight.image),
                                   ("LayerDream('act2') (48 steps)", dream.image)]):
    ax.imshow(img[0].permute(1, 2, 0).numpy(), interpolation="nearest")
    m = studio.describe(model, info, img, 8)
    ax.set(title=f"{title}\nreads {gd.recognize_digits(img)[0]}, p(8)={m['p_normalized']:.2f}", xticks=[], yticks=[])
    ax.title.set_fontsize(9)
fig.suptitle("Dreaming on a picture (32×32 px)", fontsize=10)
fig.tight_layout(rect=(0, 0, 1, 0.93))
plt.show()

r3, r8 = gd.recognize_digits([three, to_eight.image])
p8_before = gd.class_probability(model, three, 8, info)[1]
p8_after = gd.class_probability(model, to_eight.image, 8, info)[1]
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
with studio.single_thread():
    channel_runs = [gd.visualize(model, gd.LayerChannel(layer, ch), info=info, settings=layer_settings) for layer, ch in picks]
fig, axes = plt.subplots(1, len(picks), figsize=(1.6 * len(picks), 2.2))
for ax, (layer, ch), r in zip(axes, picks, channel_runs):
    ax.imshow(r.image[0].permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_title(f"{layer} ch {ch}", fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])
fig.suptitle("Channel visualizations (64 steps each, default tricks)", fontsize=10)
fig.tight_layout(rect=(0, 0, 1, 0.92))
plt.show()
gains = [r.values[-1] - r.values[0] for r in channel_runs]
print("objective rose in", sum(g > 0 for g in gains), "of", len(gains), "channel runs")
assert all(g > 0 for g in gains)

# %% [markdown]
# ## Summary
#
# * `gd.gradient_descent` climbs the logit the course asks for and leaves the model as it found it.
# * The studio binds every trick of `gd.Settings` to a widget, runs in a background thread (Stop
#   works, sliders re-run the preview), and reports the course's probability next to an independent
#   recognizability check — the difference between the two is the lesson of the ablation grid.
# * `tests/test_browser.py` opens this notebook in a real JupyterLab in headless Chromium, moves a
#   slider, presses Run, and checks that the preview and the metric change.
