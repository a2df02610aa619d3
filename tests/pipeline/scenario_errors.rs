//! Bad scenario files give an error naming the file, the line and the key.

use dendritic::experiment::Scenario;
use dendritic::experiment::scenario::EMBEDDED;

fn base() -> &'static str {
    EMBEDDED
        .iter()
        .find(|(n, _)| *n == "self_predicting")
        .unwrap()
        .1
}

/// Parses `text` as file "bad.toml" and returns the error message.
fn error(text: &str) -> String {
    match Scenario::parse(text, "bad.toml") {
        Ok(_) => panic!("accepted a bad scenario:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// 1-based line of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

fn assert_names(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "error does not mention {p:?}:\n{msg}");
    }
}

#[test]
fn every_embedded_scenario_is_valid() {
    for (name, text) in EMBEDDED {
        let s = Scenario::parse(text, name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&s.name, name);
    }
}

#[test]
fn unknown_top_level_key() {
    let text = base().replace("seeds = [1, 2, 3]", "seeds = [1, 2, 3]\nsede = 4");
    let msg = error(&text);
    assert_names(
        &msg,
        &[
            "bad.toml",
            "unknown field `sede`",
            &format!("line {}", line_of(&text, "sede = 4")),
        ],
    );
}

#[test]
fn unknown_nested_key() {
    let text = base().replace("g_lk = 0.1", "g_lk = 0.1\ng_leak = 0.2");
    let msg = error(&text);
    assert_names(
        &msg,
        &[
            "bad.toml",
            "unknown field `g_leak`",
            &format!("line {}", line_of(&text, "g_leak")),
        ],
    );
}

#[test]
fn wrong_type() {
    let text = base().replace("dt = 0.1            # ms", "dt = \"fast\"");
    let msg = error(&text);
    assert_names(
        &msg,
        &[
            "bad.toml",
            "invalid type",
            &format!("line {}", line_of(&text, "dt = \"fast\"")),
        ],
    );
}

#[test]
fn missing_required_key() {
    let text = base().replace("patterns = 400\n", "");
    let msg = error(&text);
    assert_names(&msg, &["bad.toml", "missing field `patterns`"]);
}

#[test]
fn missing_file() {
    let msg = Scenario::load("scenarios/does_not_exist.toml")
        .unwrap_err()
        .to_string();
    assert_names(&msg, &["scenarios/does_not_exist.toml", "cannot read"]);
    let msg = Scenario::load("no_such_scenario").unwrap_err().to_string();
    assert_names(&msg, &["no_such_scenario", "self_predicting"]);
}

#[test]
fn impossible_sizes() {
    let text = base().replace("sizes = [30, 20, 10]", "sizes = [30, 0, 10]");
    let msg = error(&text);
    assert_names(
        &msg,
        &[
            "bad.toml",
            "network.sizes",
            "layer 1 has zero neurons",
            &format!("line {}", line_of(&text, "sizes = [30, 0, 10]")),
        ],
    );
}

#[test]
fn negative_conductance() {
    let text = base().replace("g_a = 0.8", "g_a = -0.8");
    let msg = error(&text);
    assert_names(
        &msg,
        &[
            "bad.toml",
            "network.conductances.g_a",
            &format!("line {}", line_of(&text, "g_a = -0.8")),
        ],
    );
}

#[test]
fn learning_rates_of_the_wrong_length() {
    let text = base().replace("eta_ip = [0.0002375]", "eta_ip = [0.0002375, 0.1]");
    let msg = error(&text);
    assert_names(
        &msg,
        &[
            "bad.toml",
            "network.plasticity.eta_ip",
            "needs 1 values",
            &format!("line {}", line_of(&text, "eta_ip = [0.0002375, 0.1]")),
        ],
    );
}

#[test]
fn pattern_time_not_on_the_grid() {
    let text = base().replace("pattern_ms = 100.0", "pattern_ms = 100.05");
    let msg = error(&text);
    assert_names(
        &msg,
        &[
            "bad.toml",
            "protocol.pattern_ms",
            "whole number of steps",
            &format!("line {}", line_of(&text, "pattern_ms = 100.05")),
        ],
    );
}

#[test]
fn noise_with_rk4() {
    let text = base().replace("method = \"euler\"", "method = \"rk4\"");
    let msg = error(&text);
    assert_names(
        &msg,
        &[
            "bad.toml",
            "`method`",
            "not an SDE method",
            &format!("line {}", line_of(&text, "method = \"rk4\"")),
        ],
    );
}

#[test]
fn noise_with_the_deterministic_methods() {
    for m in ["dopri5", "ros2", "bdf2"] {
        let text = base().replace("method = \"euler\"", &format!("method = \"{m}\""));
        let msg = error(&text);
        assert_names(&msg, &["bad.toml", "`method`", m, "not an SDE method"]);
    }
}

#[test]
fn tolerances_belong_to_the_adaptive_method() {
    let text = base().replace("method = \"euler\"", "method = \"euler\"\nrtol = 1e-6");
    let msg = error(&text);
    assert_names(
        &msg,
        &[
            "bad.toml",
            "`rtol`",
            "dopri5",
            &format!("line {}", line_of(&text, "rtol = 1e-6")),
        ],
    );
    let text = base()
        .replace("method = \"euler\"", "method = \"dopri5\"\natol = 0.0")
        .replace("sigma = 0.1", "sigma = 0.0");
    let msg = error(&text);
    assert_names(&msg, &["bad.toml", "`atol`", "(0, 1)"]);
}

#[test]
fn unknown_method_lists_the_valid_ones() {
    let text = base().replace("method = \"euler\"", "method = \"leapfrog\"");
    let msg = error(&text);
    assert_names(
        &msg,
        &[
            "bad.toml",
            "leapfrog",
            "euler",
            "rk4",
            "exponential_euler",
            "dopri5",
            "ros2",
            "bdf2",
        ],
    );
}

#[test]
fn task_that_does_not_fit_the_study() {
    let text = base().replace(
        "kind = \"random_patterns\"",
        "kind = \"single_association\"\ntarget_rate_low = 0.1\ntarget_rate_high = 0.9",
    );
    let msg = error(&text);
    assert_names(&msg, &["bad.toml", "task.kind", "random_patterns"]);
}

#[test]
fn invalid_toml_syntax() {
    let text = base().replace("[protocol]", "[protocol");
    let msg = error(&text);
    assert_names(
        &msg,
        &["bad.toml", &format!("line {}", line_of(&text, "[protocol"))],
    );
}

#[test]
fn teacher_sizes_must_match_the_student() {
    let text = EMBEDDED
        .iter()
        .find(|(n, _)| *n == "regression")
        .unwrap()
        .1
        .replace("sizes = [30, 20, 10]", "sizes = [20, 20, 10]");
    let msg = error(&text);
    assert_names(
        &msg,
        &[
            "bad.toml",
            "task.sizes",
            &format!("line {}", line_of(&text, "sizes = [20, 20, 10]")),
        ],
    );
}

#[test]
fn mnist_backprop_rates_must_match_the_layers() {
    let text = mnist_text().replace(
        "backprop_eta = [0.3, 0.3, 0.3]",
        "backprop_eta = [0.3, 0.3]",
    );
    let msg = error(&text);
    assert_names(
        &msg,
        &[
            "bad.toml",
            "mnist.backprop_eta",
            "needs 3 values",
            &format!("line {}", line_of(&text, "backprop_eta = [0.3, 0.3]")),
        ],
    );
}

fn mnist_text() -> &'static str {
    EMBEDDED.iter().find(|(n, _)| *n == "mnist").unwrap().1
}

fn disinhibition_text() -> &'static str {
    EMBEDDED
        .iter()
        .find(|(n, _)| *n == "disinhibition")
        .unwrap()
        .1
}

#[test]
fn a_gate_schedule_needs_one_gate_in_0_1_per_hidden_layer() {
    let text = disinhibition_text().replace(
        "{ t_ms = 2.0, gate = [0.0] }",
        "{ t_ms = 2.0, gate = [0.0, 1.0] }",
    );
    let msg = error(&text);
    assert_names(
        &msg,
        &[
            "bad.toml",
            "disinhibition.gate_schedule",
            "step 2 has 2 gates",
            &format!("line {}", line_of(&text, "gate_schedule = [")),
        ],
    );
    let text = disinhibition_text().replace("gate = [0.0] }", "gate = [1.5] }");
    assert_names(&error(&text), &["disinhibition.gate_schedule", "1.5"]);
    let text = disinhibition_text().replace("{ t_ms = 2.0,", "{ t_ms = 0.0,");
    assert_names(
        &error(&text),
        &["disinhibition.gate_schedule", "not after step 1"],
    );
}

#[test]
fn per_layer_top_down_scales_must_match_the_hidden_layers() {
    let text = mnist_text().replace(
        "scale_down = 0.3\n",
        "scale_down = 0.3\nscale_down_layers = [0.3]\n",
    );
    let msg = error(&text);
    assert_names(
        &msg,
        &[
            "bad.toml",
            "init.scale_down_layers",
            "needs 2 values",
            &format!("line {}", line_of(&text, "scale_down_layers = [0.3]")),
        ],
    );
}

#[test]
fn a_transpose_gain_must_be_finite_and_positive() {
    let text = mnist_text().replace(
        "top_down = \"random\"\n",
        "top_down = \"transpose\"\ntranspose_gain = -2.0\n",
    );
    assert_names(
        &error(&text),
        &["bad.toml", "init.transpose_gain", "finite positive", "-2"],
    );
}

/// Issue 20: the Fashion-MNIST study is the MNIST study with only `name`, `description` and
/// `task.dir` changed, so that every setting (and every later change of one) holds for both.
#[test]
fn the_fashion_study_is_the_mnist_study_on_another_data_set() {
    let text = |name: &str| EMBEDDED.iter().find(|(n, _)| *n == name).unwrap().1;
    let mnist = Scenario::parse(text("mnist"), "mnist").unwrap();
    let mut fashion = Scenario::parse(text("fashion"), "fashion").unwrap();
    assert_eq!(fashion.name, "fashion");
    assert_ne!(fashion.description, mnist.description);
    let dir = |s: &Scenario| match &s.task {
        dendritic::task::TaskConfig::Mnist { dir, .. } => dir.clone(),
        other => panic!("not an MNIST task: {other:?}"),
    };
    assert_eq!(dir(&mnist), "data/mnist");
    assert_eq!(dir(&fashion), "data/fashion");
    fashion.name = mnist.name.clone();
    fashion.description = mnist.description.clone();
    if let dendritic::task::TaskConfig::Mnist { dir, .. } = &mut fashion.task {
        *dir = "data/mnist".into();
    }
    assert_eq!(fashion, mnist);
    assert!(mnist.sweep.as_ref().is_some_and(|s| s.variants.len() >= 6));
}

/// Issue 20: the seed extension (scenarios/fashion_seeds.toml) runs the Fashion-MNIST study's
/// microcircuit and frozen control unchanged, only on other seeds.
#[test]
fn the_seed_extension_is_the_fashion_study_on_other_seeds() {
    let text = |name: &str| EMBEDDED.iter().find(|(n, _)| *n == name).unwrap().1;
    let fashion = Scenario::parse(text("fashion"), "fashion").unwrap();
    let mut more = Scenario::parse(
        include_str!("../../scenarios/fashion_seeds.toml"),
        "fashion_seeds",
    )
    .unwrap();
    assert_eq!(more.seeds, vec![4, 5]);
    assert!(more.seeds.iter().all(|s| !fashion.seeds.contains(s)));
    let names = |s: &Scenario| -> Vec<String> {
        s.sweep
            .as_ref()
            .unwrap()
            .variants
            .iter()
            .map(|v| v.name.clone())
            .collect()
    };
    assert_eq!(names(&more), ["microcircuit", "frozen_hidden"]);
    let mut kept = fashion.clone();
    kept.sweep
        .as_mut()
        .unwrap()
        .variants
        .retain(|v| v.name == "microcircuit" || v.name == "frozen_hidden");
    more.name = kept.name.clone();
    more.description = kept.description.clone();
    more.seeds = kept.seeds.clone();
    assert_eq!(more, kept);
}

/// Each run of a diagnostic scenario (`text`) with the embedded study's run (`study`) of variant
/// `parent(run's variant)` and the same seed.
fn study_twins(
    study: &str,
    text: &str,
    parent: impl Fn(&str) -> &str,
) -> Vec<(
    dendritic::experiment::scenario::SweepRun,
    dendritic::experiment::scenario::SweepRun,
)> {
    let (_, study_runs) = dendritic::experiment::scenario::expand(
        EMBEDDED.iter().find(|(n, _)| *n == study).unwrap().1,
        study,
    )
    .unwrap();
    let (_, runs) = dendritic::experiment::scenario::expand(text, "diagnostic").unwrap();
    runs.into_iter()
        .map(|run| {
            let twin = study_runs
                .iter()
                .find(|r| r.variant == parent(&run.variant) && r.seed == run.seed)
                .unwrap_or_else(|| {
                    panic!("{study} has no twin of {} seed {}", run.variant, run.seed)
                })
                .clone();
            (run, twin)
        })
        .collect()
}

/// `restored` (a diagnostic run's scenario with its one change undone) is the study run `twin`'s
/// in everything but the names and the variant list.
fn assert_twin(mut restored: Scenario, twin: &Scenario, what: &str) {
    restored.name = twin.name.clone();
    restored.description = twin.description.clone();
    restored.sweep.clone_from(&twin.sweep);
    assert_eq!(&restored, twin, "{what}");
}

/// Issue 20: the frozen-hidden controls of backprop and feedback alignment
/// (scenarios/fashion_frozen.toml) are the Fashion-MNIST study's runs of those variants, seed for
/// seed, with only η_{2,1} set to 0, so that each pairs with the study's run.
#[test]
fn the_frozen_backprop_controls_are_the_fashion_study_with_one_rate_zero() {
    let pairs = study_twins(
        "fashion",
        include_str!("../../scenarios/fashion_frozen.toml"),
        |v| v.trim_end_matches("_frozen_hidden"),
    );
    assert_eq!(pairs.len(), 6);
    for (run, twin) in pairs {
        assert!(["backprop", "feedback_alignment"].contains(&twin.variant.as_str()));
        let mut restored = run.scenario.clone();
        let eta = restored
            .study
            .training_mut()
            .and_then(|t| t.backprop_eta.as_mut())
            .expect("backprop rates");
        assert_eq!(eta[1], 0.0, "{}: η_2,1 frozen", run.variant);
        eta[1] = twin
            .scenario
            .study
            .training()
            .unwrap()
            .backprop_eta
            .as_ref()
            .unwrap()[1];
        assert_twin(
            restored,
            &twin.scenario,
            &format!("{} seed {}", run.variant, run.seed),
        );
    }
}

/// `run` (a screen's run) carries rate decay `decay` and η̃ of W^PP_{2,1} and W^IP_1 `rate`, and
/// with those two undone is its study's run `twin` in everything else.
fn assert_study_but_decay_and_rate(
    run: &dendritic::experiment::scenario::SweepRun,
    twin: &dendritic::experiment::scenario::SweepRun,
    decay: f64,
    rate: f64,
) {
    let what = format!("{} seed {}", run.variant, run.seed);
    let mut restored = run.scenario.clone();
    let p = &mut restored.network.plasticity;
    assert_eq!((p.eta_up[1], p.eta_ip[0]), (rate, rate), "{what}");
    let q = &twin.scenario.network.plasticity;
    (p.eta_up[1], p.eta_ip[0]) = (q.eta_up[1], q.eta_ip[0]);
    let training = restored.study.training_mut().expect("an mnist study");
    assert_eq!(training.eta_decay_per_epoch, decay, "{what}");
    training.eta_decay_per_epoch = twin.scenario.study.training().unwrap().eta_decay_per_epoch;
    assert_twin(restored, &twin.scenario, &what);
}

/// Issue 20: the MNIST half of the first hidden→hidden rate screen (scenarios/mnist_screen.toml)
/// is the MNIST study's microcircuit, seed for seed, at the study's former settings (rate decay
/// 0.95, η̃ of W^PP_{2,1} and W^IP_1 0.4) with only that rate changed.
#[test]
fn the_mnist_rate_screen_is_the_study_microcircuit_with_one_rate_changed() {
    let pairs = study_twins(
        "mnist",
        include_str!("../../scenarios/mnist_screen.toml"),
        |_| "microcircuit",
    );
    assert_eq!(pairs.len(), 6);
    for (run, twin) in pairs {
        let rate = match run.variant.as_str() {
            "mc_e08" => 0.8,
            "mc_e16" => 1.6,
            other => panic!("unexpected variant {other}"),
        };
        assert_study_but_decay_and_rate(&run, &twin, 0.95, rate);
    }
}

/// Issue 20: the annealed screen's two halves (scenarios/mnist_anneal.toml,
/// scenarios/fashion_anneal.toml) are their study's microcircuit or frozen control, seed for
/// seed, with the rate decay 0.9 and η̃ of W^PP_{2,1} and W^IP_1 as the variant's name says, and
/// nothing else changed; the winner by the screen's rule (mc_d09_e16) is the study's
/// microcircuit itself, and frozen_d09 its frozen control.
#[test]
fn the_annealed_screens_are_the_studies_with_the_decay_and_one_rate_changed() {
    for (study, text, n) in [
        (
            "mnist",
            include_str!("../../scenarios/mnist_anneal.toml"),
            12,
        ),
        (
            "fashion",
            include_str!("../../scenarios/fashion_anneal.toml"),
            6,
        ),
    ] {
        let pairs = study_twins(study, text, |v| {
            if v.starts_with("frozen") {
                "frozen_hidden"
            } else {
                "microcircuit"
            }
        });
        assert_eq!(pairs.len(), n, "{study}");
        for (run, twin) in pairs {
            let rate = match run.variant.as_str() {
                "mc_d09" => 0.4,
                "mc_d09_e08" => 0.8,
                "mc_d09_e16" => 1.6,
                "frozen_d09" => 0.0,
                other => panic!("unexpected variant {other}"),
            };
            assert_study_but_decay_and_rate(&run, &twin, 0.9, rate);
            if ["mc_d09_e16", "frozen_d09"].contains(&run.variant.as_str()) {
                assert_twin(
                    run.scenario.clone(),
                    &twin.scenario,
                    &format!("{study} {} is the study's", run.variant),
                );
            }
        }
    }
}
