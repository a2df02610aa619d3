//! NumPy's `.npz` format (a ZIP archive of `.npy` arrays, stored uncompressed), for
//! checkpoints that `numpy.load` reads as they are. Written atomically (a temporary file in the
//! same directory, then a rename); read back by [`read`], which accepts what [`write`] writes
//! (little-endian `<f8` and `<u8` arrays, C order, ZIP entries stored).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

/// The data of one array.
#[derive(Clone, Debug, PartialEq)]
pub enum NpyData {
    /// float64.
    F64(Vec<f64>),
    /// uint64.
    U64(Vec<u64>),
}

/// One array: its shape (C order) and data.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// The shape.
    pub shape: Vec<usize>,
    /// The data, row-major.
    pub data: NpyData,
}

/// CRC-32 (IEEE 802.3, as ZIP uses).
pub fn crc32(bytes: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *e = c;
        }
        t
    });
    let mut c = !0u32;
    for &b in bytes {
        c = table[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// The `.npy` (version 1.0) bytes of one array.
fn npy_bytes(array: &NpyArray) -> Vec<u8> {
    let descr = match array.data {
        NpyData::F64(_) => "<f8",
        NpyData::U64(_) => "<u8",
    };
    let shape = match array.shape.len() {
        1 => format!("({},)", array.shape[0]),
        _ => format!(
            "({})",
            array
                .shape
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64,
    // ending in a newline.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 8 * array.shape.iter().product::<usize>());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    match &array.data {
        NpyData::F64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        NpyData::U64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
    }
    out
}

/// Writes `arrays` (name → array) as an uncompressed `.npz` archive, atomically.
///
/// # Errors
/// I/O errors, with the path; an archive over 4 GiB (no ZIP64).
pub fn write(path: &Path, arrays: &BTreeMap<String, NpyArray>) -> std::io::Result<()> {
    let mut zip = Vec::new();
    let mut central = Vec::new();
    for (name, array) in arrays {
        let data = npy_bytes(array);
        let file = format!("{name}.npy");
        let crc = crc32(&data);
        let offset = zip.len();
        let size =
            u32::try_from(data.len()).map_err(|_| std::io::Error::other("array over 4 GiB"))?;
        let fixed = |buf: &mut Vec<u8>| {
            buf.extend_from_slice(&20u16.to_le_bytes()); // version needed
            buf.extend_from_slice(&0u16.to_le_bytes()); // flags
            buf.extend_from_slice(&0u16.to_le_bytes()); // stored
            buf.extend_from_slice(&0u16.to_le_bytes()); // time
            buf.extend_from_slice(&0x21u16.to_le_bytes()); // date 1980-01-01
            buf.extend_from_slice(&crc.to_le_bytes());
            buf.extend_from_slice(&size.to_le_bytes());
            buf.extend_from_slice(&size.to_le_bytes());
            buf.extend_from_slice(&(file.len() as u16).to_le_bytes());
            buf.extend_from_slice(&0u16.to_le_bytes()); // extra
        };
        zip.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        fixed(&mut zip);
        zip.extend_from_slice(file.as_bytes());
        zip.extend_from_slice(&data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // made by
        fixed(&mut central);
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        let offset =
            u32::try_from(offset).map_err(|_| std::io::Error::other("archive over 4 GiB"))?;
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(file.as_bytes());
    }
    let cd_offset =
        u32::try_from(zip.len()).map_err(|_| std::io::Error::other("archive over 4 GiB"))?;
    let cd_size = central.len() as u32;
    zip.extend_from_slice(&central);
    zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip.extend_from_slice(&(arrays.len() as u16).to_le_bytes());
    zip.extend_from_slice(&(arrays.len() as u16).to_le_bytes());
    zip.extend_from_slice(&cd_size.to_le_bytes());
    zip.extend_from_slice(&cd_offset.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .and_then(|f| f.to_str())
            .unwrap_or("checkpoint"),
        std::process::id()
    ));
    {
        let mut f = std::fs::File::create(&tmp)?;
        if crate::record::test_hook::fires("DENDRITIC_TEST_KILL_IN_WRITE") {
            // Half the bytes on disk, then killed: the rename below never happens.
            f.write_all(&zip[..zip.len() / 2])?;
            f.flush()?;
            crate::record::test_hook::kill_self();
        }
        f.write_all(&zip)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

fn le16(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize)
}

fn le32(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

/// Parses one `.npy` entry.
fn parse_npy(bytes: &[u8]) -> Result<NpyArray, String> {
    if bytes.get(..6) != Some(b"\x93NUMPY".as_slice()) {
        return Err("not an .npy array".into());
    }
    let (hlen, start) = match bytes.get(6) {
        Some(1) => (le16(bytes, 8).ok_or("truncated header")?, 10),
        Some(2) | Some(3) => (le32(bytes, 8).ok_or("truncated header")?, 12),
        _ => return Err("unknown .npy version".into()),
    };
    let header = std::str::from_utf8(bytes.get(start..start + hlen).ok_or("truncated header")?)
        .map_err(|_| "header is not text")?;
    if header.contains("'fortran_order': True") {
        return Err("Fortran-ordered arrays are not read".into());
    }
    let shape_text = header
        .split("'shape':")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .ok_or("no shape in header")?;
    let shape: Vec<usize> = shape_text
        .trim()
        .trim_start_matches('(')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| format!("bad shape entry '{s}'")))
        .collect::<Result<_, _>>()?;
    let n: usize = shape.iter().product();
    let body = &bytes[start + hlen..];
    if body.len() != 8 * n {
        return Err(format!("{} data bytes for {n} elements", body.len()));
    }
    let words = body.chunks_exact(8).map(|c| c.try_into().expect("8 bytes"));
    let data = if header.contains("'<f8'") {
        NpyData::F64(words.map(f64::from_le_bytes).collect())
    } else if header.contains("'<u8'") {
        NpyData::U64(words.map(u64::from_le_bytes).collect())
    } else {
        return Err(format!("unsupported dtype in header {header}"));
    };
    Ok(NpyArray { shape, data })
}

/// Reads an `.npz` archive of stored (uncompressed) `<f8`/`<u8` arrays.
///
/// # Errors
/// A message naming the file and what is wrong (I/O, not a ZIP, a compressed entry, a CRC
/// mismatch, a malformed array).
pub fn read(path: &Path) -> Result<BTreeMap<String, NpyArray>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bad = |m: &str| format!("{}: {m}", path.display());
    let mut out = BTreeMap::new();
    let mut at = 0;
    while le32(&bytes, at) == Some(0x0403_4b50) {
        let method = le16(&bytes, at + 8).ok_or_else(|| bad("truncated entry"))?;
        let crc = le32(&bytes, at + 14).ok_or_else(|| bad("truncated entry"))? as u32;
        let size = le32(&bytes, at + 18).ok_or_else(|| bad("truncated entry"))?;
        let name_len = le16(&bytes, at + 26).ok_or_else(|| bad("truncated entry"))?;
        let extra = le16(&bytes, at + 28).ok_or_else(|| bad("truncated entry"))?;
        let name = bytes
            .get(at + 30..at + 30 + name_len)
            .and_then(|n| std::str::from_utf8(n).ok())
            .ok_or_else(|| bad("bad entry name"))?
            .to_string();
        if method != 0 {
            return Err(bad(&format!(
                "entry {name} is compressed (method {method})"
            )));
        }
        let start = at + 30 + name_len + extra;
        let data = bytes
            .get(start..start + size)
            .ok_or_else(|| bad("truncated data"))?;
        if crc32(data) != crc {
            return Err(bad(&format!("entry {name}: CRC mismatch")));
        }
        let array = parse_npy(data).map_err(|m| bad(&format!("entry {name}: {m}")))?;
        out.insert(name.trim_end_matches(".npy").to_string(), array);
        at = start + size;
    }
    if out.is_empty() {
        return Err(bad("not an .npz archive"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_the_check_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn arrays_round_trip_and_the_header_is_aligned() {
        let dir = std::env::temp_dir().join(format!("dendritic-npz-{}", std::process::id()));
        let path = dir.join("c.npz");
        let mut arrays = BTreeMap::new();
        arrays.insert(
            "w".to_string(),
            NpyArray {
                shape: vec![2, 3],
                data: NpyData::F64(vec![1.0, -2.5, 3.0, f64::MIN_POSITIVE, 0.0, 1e300]),
            },
        );
        arrays.insert(
            "rng".to_string(),
            NpyArray {
                shape: vec![4],
                data: NpyData::U64(vec![u64::MAX, 0, 7, 1 << 63]),
            },
        );
        write(&path, &arrays).unwrap();
        assert_eq!(read(&path).unwrap(), arrays);
        let npy = npy_bytes(&arrays["w"]);
        assert_eq!((10 + le16(&npy, 8).unwrap()) % 64, 0);
        // A flipped data byte is caught by the CRC and named.
        let mut bytes = std::fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n / 3] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(read(&path).unwrap_err().contains("c.npz"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
