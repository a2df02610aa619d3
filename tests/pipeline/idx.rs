//! The IDX reader on small files written here: good ones (raw and gzip) and corrupt ones.

use std::io::Write;
use std::path::Path;

use dendritic::task::mnist::{load, read_images, read_labels};

use crate::common::scratch;

fn images(n: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 3];
    for d in [n, rows, cols] {
        v.extend(d.to_be_bytes());
    }
    v.extend(pixels);
    v
}

fn labels(ls: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 8, 1];
    v.extend((ls.len() as u32).to_be_bytes());
    v.extend(ls);
    v
}

fn write(path: &Path, bytes: &[u8], gzip: bool) {
    if gzip {
        let mut e = flate2::write::GzEncoder::new(
            std::fs::File::create(path).unwrap(),
            flate2::Compression::default(),
        );
        e.write_all(bytes).unwrap();
        e.finish().unwrap();
    } else {
        std::fs::write(path, bytes).unwrap();
    }
}

#[test]
fn reads_good_files_raw_and_gzip() {
    let dir = scratch("idx-good");
    let px: Vec<u8> = (0..12).map(|i| (i * 20) as u8).collect();
    for gzip in [false, true] {
        let p = dir.join(format!("img{gzip}"));
        write(&p, &images(3, 2, 2, &px), gzip);
        let x = read_images(&p).unwrap();
        assert_eq!(x.shape(), &[3, 4]);
        assert_eq!(x[[1, 2]], 120.0 / 255.0);
        assert_eq!(x[[2, 3]], 220.0 / 255.0);
        let p = dir.join(format!("lab{gzip}"));
        write(&p, &labels(&[7, 0, 9]), gzip);
        assert_eq!(read_labels(&p).unwrap(), vec![7, 0, 9]);
    }
    // A whole directory in the standard names, train raw and test gzip-compressed.
    write(
        &dir.join("train-images-idx3-ubyte"),
        &images(3, 2, 2, &px),
        false,
    );
    write(
        &dir.join("train-labels-idx1-ubyte"),
        &labels(&[1, 2, 3]),
        false,
    );
    write(
        &dir.join("t10k-images-idx3-ubyte.gz"),
        &images(1, 2, 2, &px[..4]),
        true,
    );
    write(&dir.join("t10k-labels-idx1-ubyte.gz"), &labels(&[4]), true);
    let m = load(&dir).unwrap();
    assert_eq!(
        (
            m.train_images.nrows(),
            m.test_images.nrows(),
            m.test_labels[0]
        ),
        (3, 1, 4)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn corrupt_files_are_refused_with_a_clear_error() {
    let dir = scratch("idx-bad");
    let px = vec![0u8; 12];
    let cases: Vec<(&str, Vec<u8>, bool, &str)> = vec![
        ("truncated", images(3, 2, 2, &px[..10]), true, "implies"),
        (
            "extra",
            images(3, 2, 2, &[px.clone(), vec![1]].concat()),
            true,
            "implies",
        ),
        (
            "magic",
            labels(&[1, 2, 3]),
            true,
            "magic number 0x00000801, expected 0x00000803",
        ),
        ("header", vec![0, 0, 8, 3, 0, 0], true, "truncated header"),
        (
            "mislabelled",
            labels(&[1, 12, 3]),
            false,
            "label 12 at index 1",
        ),
    ];
    for (name, bytes, is_image, want) in cases {
        let p = dir.join(name);
        write(&p, &bytes, false);
        let err = if is_image {
            read_images(&p).unwrap_err().to_string()
        } else {
            read_labels(&p).unwrap_err().to_string()
        };
        assert!(err.contains(want) && err.contains(name), "{name}: {err}");
    }
    let p = dir.join("notgzip");
    std::fs::write(&p, [0x1f, 0x8b, 1, 2, 3]).unwrap();
    assert!(read_images(&p).unwrap_err().to_string().contains("gzip"));
    assert!(
        read_labels(&dir.join("missing"))
            .unwrap_err()
            .to_string()
            .contains("cannot read")
    );
    // Images and labels that disagree in number.
    write(
        &dir.join("train-images-idx3-ubyte"),
        &images(3, 2, 2, &px),
        false,
    );
    write(
        &dir.join("train-labels-idx1-ubyte"),
        &labels(&[1, 2]),
        false,
    );
    let err = load(&dir).unwrap_err().to_string();
    assert!(err.contains("2 labels for 3 images"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
