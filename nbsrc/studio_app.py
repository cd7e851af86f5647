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
# # DeepDream studio
#
# Gradient ascent on the input image of a small digits CNN, with every trick of the homework on a
# slider. Move a slider and the preview re-runs; **Run** starts a run, **Stop** ends it, **Ablation
# grid** runs the current target with each trick switched off in turn and each switched on alone.
# The **model** menu offers the adversarially trained (robust) digits CNN and the same network
# trained the standard way: compare how much the tricks matter for each. Under the preview, the
# network's probability and an independent judge's verdict ("reads as N" or "no digit"). The
# explanations are in notebook `07_deepdream_studio.ipynb`; this page is the studio alone
# (`make studio` serves it with Voilà).

# %%
from dream.studio import Studio

panel = Studio()
panel.show()
