"""How to read the Inspect view, in a learner's words: the plots' tooltips and the F1 help's section.

The numbers are those the app computes (nnkit.layer_stats, nnkit.model_check, nnkit.denoise.engines.lockstep)
and those measured for the README's screenshots (docs/screenshot-inspect*.png).
"""

from __future__ import annotations

GRAD_NORM = (
    "<b>Gradient norm (output)</b>: the length (L2 norm) of the gradient that arrives at each layer's "
    "output in the backward pass, every N-th step. Its size depends on the loss and the batch "
    "(here often 1e-4 to 1e-2): compare layers with each other and over time, not with a fixed number.<br>"
    "<b>Healthy</b>: all layers within an order of magnitude or two of each other, each staying within "
    "a factor of a few of where it started, changing slowly.<br>"
    "<b>Exploding</b>: every curve climbs together, by ten times or more per step "
    "(about 1e-4 to 10 in three steps), then the loss is NaN and the run stops as diverged: lower the "
    "learning rate.<br>"
    "<b>Vanishing</b>: the first layers' norms several orders of magnitude below the last ones'.<br>"
    "<b>Dead</b>: a curve that stops: the gradient is exactly 0, which a log axis cannot draw."
)
UPDATE_RATIO = (
    "<b>Update ratio |Δw| / |w|</b>: how much one optimiser step changed a layer's weights, relative "
    "to their size (weights only, not biases).<br>"
    "<b>Healthy</b>: around 1e-3 (2e-3 to 7e-3 on the report network with Adam at 1e-3), drifting down "
    "as the loss settles.<br>"
    "<b>Too large a learning rate</b>: above 1e-2 for long; climbing by orders of magnitude "
    "(1e4 in the exploding example) means the run is blowing up.<br>"
    "<b>Barely learning</b>: below 1e-5.<br>"
    "A layer whose weights start at zero (the U-Net's output layer) has no ratio at its first step."
)
DEAD_FRACTION = (
    "<b>Dead fraction</b>: the share of a layer's outputs that are exactly 0 (0 = none, 1 = all).<br>"
    "<b>Healthy</b>: a ReLU keeps some of its outputs at zero (the report network with Adam at 1e-3: "
    "35–60% at first, about 40% later); a convolution near 0.<br>"
    "<b>Dead</b>: a layer at 1 (100%) outputs only zeros, so it passes no gradient back: every layer "
    "below it stops learning (its gradient-norm curve ends). Too large a learning rate kills: Adam at "
    "0.1 saturates the report network's output sigmoid in 8 steps (a black image), at 0.05 its ReLUs "
    "climb to 90–95% zeros."
)
ACTIVATIONS = (
    "<b>Activations</b>: a histogram of the chosen layer's output values at the latest inspected "
    "step (up to 16,384 values, 40 bins from the smallest to the largest, both in the title).<br>"
    "<b>Healthy</b>: a convolution gives a bump around 0; a ReLU a tall bar at 0 "
    "and a tail to the right.<br>"
    "<b>Dead</b>: one single bar at 0 (range 0 … 0).<br>"
    "<b>Exploding</b>: the range grows to tens or hundreds."
)
GRADIENTS = (
    "<b>Gradients</b>: a histogram of the gradient arriving at the chosen layer's output "
    "(same sampling).<br><b>Healthy</b>: a narrow bump centred on 0.<br>"
    "<b>Dead</b>: one bar at 0 (nothing flows back).<br>"
    "<b>Exploding</b>: a range that grows by orders of magnitude from one step to the next."
)
LOCKSTEP = (
    "<b>Lockstep drift</b>: the nnkit network and its torch.nn twin start from the same weights and "
    "take the same batches; after every step, the relative difference of their losses (blue) and the "
    "largest relative difference of their weights (orange).<br>"
    "<b>Healthy</b>: in float64 below 1e-15. In float32 rounding alone gives about 1e-7 to 1e-5 at the "
    "first step (the report network at width 16: weights 3.5e-6), then the two runs creep apart as "
    "Adam amplifies rounding in tiny gradients (7e-5 at step 40, 1.6e-3 at step 120).<br>"
    "<b>A bug</b>: a difference the size of a whole update (1e-3 or more, like the update ratio) "
    "from the very first steps, or anything above 1e-12 in float64: the two compute something else."
)
GRADCHECK = (
    "<b>Gradient check</b>: each layer's hand-written backward, on its own, in float64, against torch "
    "autograd (on its torch.nn twin) and against central differences; the input row checks how "
    "the gradient is routed through the containers.<br>"
    "<b>Correct</b>: a green row: vs autograd about 1e-16 (0 for a ReLU), vs numeric about 1e-9.<br>"
    "<b>Wrong</b>: a red row: vs autograd above 1e-8 or vs numeric above 1e-5 (a ReLU made 1% wrong "
    "shows 1e-2 and 4e-3)."
)
PIPELINE = (
    "<b>Conv2d shapes</b>: how the chosen convolution computes, as in the course: unfold the input into "
    "columns, one matrix product with the weight, reshape to the output image; backward goes "
    "through dL/dcols and fold."
)

SCREENSHOTS = (
    "<p><b>Examples</b> (docs/ in the source): <i>screenshot-inspect-exploding.png</i>: SGD with "
    "momentum at a learning rate of 8 on the U-Net: every gradient norm climbs together from about "
    "1e-4 to 10 in three steps and the update ratios reach 1e4; the next loss is NaN and the run "
    "stops. <i>screenshot-inspect-dead.png</i>: Adam at 0.1 on the report network: the output sigmoid "
    "(inner.7) saturates: its dead fraction is 1 from step 8 (every output exactly 0, a black image), "
    "its activation histogram one bar at 0, and every layer below it gets exactly zero gradient "
    "(their curves end); the validation PSNR stays at 8.15 dB. <i>screenshot-inspect.png</i>: a "
    "healthy run (Adam at 1e-3): gradient norms in a steady band, update ratios of a few 1e-3, ReLUs "
    "30–60% zero, a green gradient check, a lockstep drift creeping from 1e-6 to 1e-3.</p>"
)


def guide_html(inspect_every: str, lockstep: str) -> str:
    """The F1 help's section on the Inspect view; the form's labels of the two fields that fill it."""
    items = "".join(f"<li>{text}</li>" for text in (GRAD_NORM, UPDATE_RATIO, DEAD_FRACTION, ACTIVATIONS,
                                                    GRADIENTS, LOCKSTEP, GRADCHECK, PIPELINE))
    return (
        "<h3>How to read the Inspect view</h3>"
        f"<p>Set <i>{inspect_every}</i> in the Train form (say 10: every 10th step is measured, at a "
        f"cost of a few percent) and tick <i>{lockstep}</i> for the drift plot, then start a run. "
        "Pick a layer at the top: it is drawn in blue over all the others in grey. "
        "Past runs show their stored curves again when selected in the run table (histograms and "
        "shapes only while a run trains). Hover a plot for this text.</p>"
        f"<ul>{items}</ul>{SCREENSHOTS}"
    )
