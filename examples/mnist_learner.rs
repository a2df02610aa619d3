//! A learner loop of your own on MNIST-format (IDX) data: the paper's two-pass microcircuit
//! learner trained minibatch by minibatch, its test error printed after every pass.
//!
//! ```text
//! cargo run --release --example mnist_learner -- data/mnist     # the real MNIST (`make data`)
//! cargo run --release --example mnist_learner                   # a small synthetic IDX set
//! ```
//!
//! Without a directory it writes a synthetic set (600 training and 200 test images of ten
//! classes, each a bright bar in its own band of rows) to a temporary directory and reads it
//! back through the same IDX reader as the real data.

use std::path::{Path, PathBuf};

use dendritic::learn::{Learner, Training, TwoPassLearner};
use dendritic::model::{Initialisation, Network, NetworkConfig, TopDown};
use dendritic::rng::Rng;
use dendritic::task::minibatch::Minibatches;
use dendritic::task::mnist::load;

/// Writes `n` synthetic 28×28 images and their labels as `<prefix>-{images-idx3,labels-idx1}-ubyte`.
fn write_idx(dir: &Path, prefix: &str, n: usize, rng: &mut Rng) -> std::io::Result<()> {
    let mut images = vec![0, 0, 8, 3];
    for d in [n as u32, 28, 28] {
        images.extend(d.to_be_bytes());
    }
    let mut labels = vec![0, 0, 8, 1];
    labels.extend((n as u32).to_be_bytes());
    for i in 0..n {
        let class = i % 10;
        labels.push(class as u8);
        for p in 0..784 {
            let (row, col) = (p / 28, p % 28);
            let bar = row >= 2 + 2 * class && row < 4 + 2 * class && col > 3 && col < 24;
            images.push(if bar {
                200 + rng.below(56)
            } else {
                rng.below(30)
            } as u8);
        }
    }
    std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte")), images)?;
    std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte")), labels)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let given = std::env::args().nth(1);
    let dir = match &given {
        Some(d) => PathBuf::from(d),
        None => {
            let dir = std::env::temp_dir().join(format!("dendritic-idx-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let mut rng = Rng::new(1);
            write_idx(&dir, "train", 600, &mut rng)?;
            write_idx(&dir, "t10k", 200, &mut rng)?;
            dir
        }
    };
    let data = load(&dir)?;
    println!(
        "{} training and {} test images from {}",
        data.train_images.nrows(),
        data.test_images.nrows(),
        dir.display()
    );

    // 784-100-10 from a self-predicting start, as the paper's MNIST network (smaller).
    let training: Training = toml::from_str("epochs = 3\nbatch = 10")?;
    let mut config = NetworkConfig::new(&[784, 100, 10]);
    config.bias = true;
    config.plasticity.eta_up = vec![0.05, 0.05];
    config.plasticity.eta_ip = vec![0.05];
    let net = Network::new(config, training.batch)?;
    let mut state = net.zero_state();
    let init = Initialisation {
        scale_up: 0.3,
        scale_down: 0.3,
        bias_offset: -2.0,
        top_down: TopDown::Random,
        self_predicting: true,
        ..Initialisation::default()
    };
    net.initialise(&mut state, &init, &mut Rng::new(2));
    let mut learner = TwoPassLearner::new(net, state, &training, 0.1, 3)?;

    // The loop: shuffle, one two-pass update per minibatch, evaluate after every epoch.
    let (low, high) = (0.1_f64, 0.8_f64);
    let logit = |r: f64| (r / (1.0 - r)).ln();
    let mut batches = Minibatches::new(
        &data.train_images,
        &data.train_labels,
        training.batch,
        (logit(low), logit(high)),
    );
    let mut rng = Rng::new(4);
    let before = learner.error_percent(&data.test_images, &data.test_labels);
    println!("epoch 0: test error {before:.1} %");
    let mut after = before;
    for epoch in 1..=training.epochs {
        batches.shuffle(&mut rng);
        for step in 0..batches.steps() {
            batches.fill(step);
            learner.step(&batches.x, &batches.target)?;
        }
        learner.check(epoch as f64)?;
        after = learner.error_percent(&data.test_images, &data.test_labels);
        println!("epoch {epoch}: test error {after:.1} %");
    }
    if given.is_none() {
        std::fs::remove_dir_all(&dir)?;
        assert!(
            after < before / 2.0,
            "the microcircuit learns the synthetic classes"
        );
    }
    Ok(())
}
