//! Which report pages are diagnostic screens rather than headline studies, and what each was
//! for (a leaf: the index and the pages both ask it).

/// The pages that are diagnostic screens, not headline studies, with what each was for: the
/// page says so at its top and the index lists them apart.
pub const DIAGNOSTICS: [(&str, &str); 13] = [
    (
        "mnist_fa",
        "the feedback-alignment and random-feedback settings screened for the MNIST study (one seed each)",
    ),
    (
        "mnist_long",
        "the microcircuit trained for 50 epochs, to see whether longer training closes the gap to the paper",
    ),
    (
        "mnist_tracking",
        "the interneuron-rescaling and top-down-gain settings screened for the MNIST study (2 epochs each)",
    ),
    (
        "fashion_screen",
        "the microcircuit's settings screened on Fashion-MNIST's validation set (rate decay, hidden→hidden rate; 3 seeds each)",
    ),
    (
        "fashion_seeds",
        "the Fashion-MNIST study's microcircuit and frozen control on two more seeds (4, 5): their comparison against the seed spread",
    ),
    (
        "mnist_screen",
        "the microcircuit's hidden→hidden rate screened on MNIST's validation set (2× and 4× faster; 3 seeds each), with fashion_screen the two halves of one rule",
    ),
    (
        "mnist_anneal",
        "the microcircuit's hidden→hidden rate (1×, 2×, 4×) and its frozen control screened again on MNIST at a rate decay of 0.9, with fashion_anneal the two halves of one rule",
    ),
    (
        "fashion_anneal",
        "the microcircuit's hidden→hidden rate (2×, 4×) screened again on Fashion-MNIST at a rate decay of 0.9, with mnist_anneal the two halves of one rule",
    ),
    (
        "fashion_frozen",
        "backprop and feedback alignment on Fashion-MNIST with the hidden→hidden weights frozen: what learning them is worth to each",
    ),
    (
        "mnist_solvers",
        "the two-pass steady state against the iterated fixed point on 3,000 images",
    ),
    (
        "mnist_short",
        "the MNIST study reduced to minutes (what `make test` checks end to end)",
    ),
    (
        "disinhibition_short",
        "the disinhibition study reduced to minutes (what `make test` checks end to end)",
    ),
    (
        "disinhibition_3epochs",
        "the disinhibition study with 3 epochs of phase-1 training instead of 1 (the trade-off its scenario describes)",
    ),
];

/// What diagnostic screen `name` is for, or None for a headline study.
pub fn diagnostic(name: &str) -> Option<&'static str> {
    DIAGNOSTICS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, why)| *why)
}
