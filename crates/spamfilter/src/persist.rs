//! Binary file formats of [`Model`] and [`Overlay`].
//!
//! Both are little-endian: an 8-byte magic, a `u16` format version, a header,
//! sparse entries (index as a LEB128 delta from the previous index, then `f32`
//! values; zero weights are skipped) and a CRC-32 of everything before it. A
//! wrong magic, an unknown version, a truncated or corrupted file gives an
//! [`Err`], never a silently untrained model.

use std::fmt;
use std::io::{self, Read, Write};

use crate::context::Slot;
use crate::decision::{ThresholdPolicy, Thresholds};
use crate::features::FeatureConfig;
use crate::model::{Cell, CellMap, FtrlParams, HISTORY, Model, Overlay, Seen};
use std::collections::VecDeque;

const MODEL_MAGIC: &[u8; 8] = b"BSSPAMMD";
const OVERLAY_MAGIC: &[u8; 8] = b"BSSPAMOV";
/// The format written. Version 2 marks models whose feature byte may carry the
/// cue bit, so that binaries which knew only the bigram bit refuse them instead
/// of ignoring the cues; version 1 files read the same way. Version 3 adds the
/// doubt threshold and its target, and the feature bits for the length class
/// and function words; older files read with no doubt zone of their own
/// (doubt = spam) and both features on, as they were trained.
const VERSION: u16 = 3;
/// The oldest format still read.
const OLDEST_VERSION: u16 = 1;
/// Files larger than this are refused rather than read into memory.
const MAX_FILE: u64 = 512 << 20;

/// Why a model or overlay could not be read or written.
#[derive(Debug)]
pub enum PersistError {
    /// The reader or writer failed.
    Io(io::Error),
    /// The file does not start with the expected magic bytes (not a model, or the wrong kind).
    BadMagic,
    /// The file was written by an unknown format version.
    UnsupportedVersion(u16),
    /// The file ends early.
    Truncated,
    /// The stored checksum does not match the content.
    ChecksumMismatch,
    /// The content is inconsistent (bad index, non-finite weight, ...).
    Corrupt(&'static str),
    /// The overlay belongs to a different base model.
    BaseMismatch,
    /// The file is larger than any valid model.
    TooLarge,
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "spam model I/O error: {e}"),
            Self::BadMagic => f.write_str("not a spam model file (bad magic bytes)"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported spam model format version {v}"),
            Self::Truncated => f.write_str("spam model file is truncated"),
            Self::ChecksumMismatch => f.write_str("spam model file is corrupted (checksum mismatch)"),
            Self::Corrupt(what) => write!(f, "spam model file is corrupted: {what}"),
            Self::BaseMismatch => f.write_str("spam overlay was learnt on a different base model"),
            Self::TooLarge => f.write_str("spam model file is too large"),
        }
    }
}

impl std::error::Error for PersistError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for PersistError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_f32s(out: &mut Vec<u8>, vals: &[f32]) {
    for v in vals {
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// A bounds-checked cursor over file bytes.
struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PersistError> {
        if self.buf.len() < n {
            return Err(PersistError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], PersistError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, PersistError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, PersistError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, PersistError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, PersistError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn f32(&mut self) -> Result<f32, PersistError> {
        let v = f32::from_le_bytes(self.array()?);
        if v.is_finite() { Ok(v) } else { Err(PersistError::Corrupt("non-finite number")) }
    }

    fn varint(&mut self) -> Result<u32, PersistError> {
        let mut v: u32 = 0;
        for shift in (0..35).step_by(7) {
            let b = self.u8()?;
            v |= u32::from(b & 0x7f).checked_shl(shift).ok_or(PersistError::Corrupt("varint overflow"))?;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(PersistError::Corrupt("varint too long"))
    }
}

/// The feature byte: bit 0 bigrams, bit 1 cues, bit 2 *no* length class,
/// bit 3 *no* function-word unigrams (clear in files older than version 3,
/// which had both).
fn feature_flags(fc: &FeatureConfig) -> u8 {
    u8::from(fc.bigrams) | u8::from(fc.cues) << 1 | u8::from(!fc.length) << 2 | u8::from(!fc.function_words) << 3
}

/// Reads a whole file, checks magic, version and checksum; returns the end of the payload.
fn read_checked(r: &mut impl Read, magic: &[u8; 8], buf: &mut Vec<u8>) -> Result<usize, PersistError> {
    r.take(MAX_FILE + 1).read_to_end(buf)?;
    if buf.len() as u64 > MAX_FILE {
        return Err(PersistError::TooLarge);
    }
    if buf.len() < magic.len() {
        return Err(if magic.starts_with(buf) { PersistError::Truncated } else { PersistError::BadMagic });
    }
    if &buf[..8] != magic {
        return Err(PersistError::BadMagic);
    }
    if buf.len() < 8 + 2 + 4 {
        return Err(PersistError::Truncated);
    }
    let version = u16::from_le_bytes([buf[8], buf[9]]);
    if !(OLDEST_VERSION..=VERSION).contains(&version) {
        return Err(PersistError::UnsupportedVersion(version));
    }
    let (body, sum) = buf.split_at(buf.len() - 4);
    let stored = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
    if crc32fast::hash(body) != stored {
        return Err(PersistError::ChecksumMismatch);
    }
    Ok(buf.len() - 4)
}

impl Model {
    fn body(&self) -> Vec<u8> {
        let nnz = self.non_zero();
        let mut out = Vec::with_capacity(96 + nnz * 6);
        out.extend_from_slice(MODEL_MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        let fc = &self.features;
        out.extend_from_slice(&[fc.bits, fc.char_min, fc.char_max, feature_flags(fc)]);
        out.extend_from_slice(&(Slot::COUNT as u16).to_le_bytes());
        let t = &self.thresholds;
        put_f32s(&mut out, &[t.doubt, t.spam, t.blatant]);
        let o = &self.online;
        put_f32s(&mut out, &[o.alpha, o.beta, o.l1, o.l2]);
        let p = &self.policy;
        put_f32s(&mut out, &[p.target_fpr, p.doubt_fpr, p.blatant_margin, p.min_spam]);
        out.extend_from_slice(&self.seen.ham.to_le_bytes());
        out.extend_from_slice(&self.seen.spam.to_le_bytes());
        out.extend_from_slice(&(nnz as u32).to_le_bytes());
        let mut prev = 0u32;
        for (i, w) in self.weights.iter().enumerate().filter(|(_, w)| **w != 0.0) {
            let i = i as u32;
            put_varint(&mut out, i - prev);
            prev = i;
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    }

    pub(crate) fn compute_fingerprint(&self) -> u32 {
        crc32fast::hash(&self.body())
    }

    /// Writes the model; returns the number of bytes written.
    pub fn write_to(&self, w: &mut impl Write) -> Result<usize, PersistError> {
        let body = self.body();
        w.write_all(&body)?;
        w.write_all(&crc32fast::hash(&body).to_le_bytes())?;
        Ok(body.len() + 4)
    }

    /// Reads a model written by [`write_to`](Self::write_to).
    pub fn read_from(r: &mut impl Read) -> Result<Self, PersistError> {
        let mut buf = Vec::new();
        let end = read_checked(r, MODEL_MAGIC, &mut buf)?;
        let fingerprint = crc32fast::hash(&buf[..end]);
        let version = u16::from_le_bytes([buf[8], buf[9]]);
        let mut c = Cursor { buf: &buf[10..end] };
        // Version 1 wrote the byte as a bigram boolean at first and with the cue
        // bit later; both read the same as version 2. Only readers differ: an older
        // one took any non-zero byte for "bigrams" and would have dropped the cues.
        let (bits, char_min, char_max, flags) = (c.u8()?, c.u8()?, c.u8()?, c.u8()?);
        if flags > if version >= 3 { 0b1111 } else { 0b11 } {
            return Err(PersistError::Corrupt("unknown feature flags"));
        }
        let features = FeatureConfig {
            bits,
            char_min,
            char_max,
            bigrams: flags & 1 != 0,
            cues: flags & 2 != 0,
            length: flags & 4 == 0,
            function_words: flags & 8 == 0,
        };
        if !features.is_valid() {
            return Err(PersistError::Corrupt("feature configuration out of range"));
        }
        if u32::from(c.u16()?) != Slot::COUNT {
            return Err(PersistError::Corrupt("context slot count differs"));
        }
        let thresholds = if version >= 3 {
            Thresholds { doubt: c.f32()?, spam: c.f32()?, blatant: c.f32()? }
        } else {
            let spam = c.f32()?;
            Thresholds { doubt: spam, spam, blatant: c.f32()? }
        };
        if !thresholds.is_valid() {
            return Err(PersistError::Corrupt("thresholds"));
        }
        let online = FtrlParams { alpha: c.f32()?, beta: c.f32()?, l1: c.f32()?, l2: c.f32()? };
        if !online.is_valid() {
            return Err(PersistError::Corrupt("learning rates"));
        }
        let target_fpr = c.f32()?;
        // Older models had no doubt zone: their sites' thresholds get none either.
        let doubt_fpr = if version >= 3 { c.f32()? } else { target_fpr };
        let policy = ThresholdPolicy { target_fpr, doubt_fpr, blatant_margin: c.f32()?, min_spam: c.f32()? };
        if !(0.0..=1.0).contains(&policy.target_fpr) || !(0.0..=1.0).contains(&policy.doubt_fpr) {
            return Err(PersistError::Corrupt("threshold policy"));
        }
        let seen = Seen { ham: c.u64()?, spam: c.u64()? };
        let nnz = c.u32()? as usize;
        let dim = features.dim();
        if nnz > dim {
            return Err(PersistError::Corrupt("more weights than the table holds"));
        }
        let mut weights = vec![0.0f32; dim];
        let mut index = 0usize;
        for k in 0..nnz {
            let delta = c.varint()? as usize;
            if k > 0 && delta == 0 {
                return Err(PersistError::Corrupt("repeated weight index"));
            }
            index += delta;
            let w = c.f32()?;
            *weights.get_mut(index).ok_or(PersistError::Corrupt("weight index out of range"))? = w;
        }
        if !c.buf.is_empty() {
            return Err(PersistError::Corrupt("trailing bytes"));
        }
        let model = Self { features, weights, thresholds, online, policy, seen, fingerprint };
        Ok(model)
    }
}

impl Overlay {
    /// Writes the overlay; returns the number of bytes written.
    pub fn write_to(&self, w: &mut impl Write) -> Result<usize, PersistError> {
        let mut entries: Vec<(&u32, &Cell)> = self.cells.iter().filter(|(_, c)| c.n != 0.0 || c.z != 0.0).collect();
        entries.sort_unstable_by_key(|(i, _)| **i);
        let mut out = Vec::with_capacity(48 + entries.len() * 10);
        out.extend_from_slice(OVERLAY_MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&self.base.to_le_bytes());
        out.extend_from_slice(&self.seen.ham.to_le_bytes());
        out.extend_from_slice(&self.seen.spam.to_le_bytes());
        out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        let mut prev = 0u32;
        for (&i, cell) in entries {
            put_varint(&mut out, i - prev);
            prev = i;
            put_f32s(&mut out, &[cell.z, cell.n]);
        }
        out.extend_from_slice(&self.since_update.to_le_bytes());
        out.extend_from_slice(&(self.history.len() as u32).to_le_bytes());
        for &(score, spam) in &self.history {
            out.extend_from_slice(&score.to_le_bytes());
            out.push(u8::from(spam));
        }
        w.write_all(&out)?;
        w.write_all(&crc32fast::hash(&out).to_le_bytes())?;
        Ok(out.len() + 4)
    }

    /// Reads an overlay written by [`write_to`](Self::write_to) for `base`.
    pub fn read_from(r: &mut impl Read, base: &Model) -> Result<Self, PersistError> {
        let mut buf = Vec::new();
        let end = read_checked(r, OVERLAY_MAGIC, &mut buf)?;
        let mut c = Cursor { buf: &buf[10..end] };
        let fingerprint = c.u32()?;
        if fingerprint != base.fingerprint() {
            return Err(PersistError::BaseMismatch);
        }
        let seen = Seen { ham: c.u64()?, spam: c.u64()? };
        let n = c.u32()? as usize;
        let dim = base.features().dim();
        if n > dim {
            return Err(PersistError::Corrupt("more cells than the table holds"));
        }
        let mut cells = CellMap::default();
        cells.reserve(n);
        let mut index = 0usize;
        let p = base.online_params();
        for k in 0..n {
            let delta = c.varint()? as usize;
            if k > 0 && delta == 0 {
                return Err(PersistError::Corrupt("repeated cell index"));
            }
            index += delta;
            if index >= dim {
                return Err(PersistError::Corrupt("cell index out of range"));
            }
            let (z, nn) = (c.f32()?, c.f32()?);
            if nn < 0.0 {
                return Err(PersistError::Corrupt("negative gradient sum"));
            }
            let w = Cell::weight(f64::from(z), f64::from(nn), &p) as f32;
            cells.insert(index as u32, Cell { z, n: nn, w });
        }
        let since_update = c.u32()?;
        let len = c.u32()? as usize;
        if len > HISTORY {
            return Err(PersistError::Corrupt("history too long"));
        }
        let mut history = VecDeque::with_capacity(len);
        for _ in 0..len {
            let score = c.f32()?;
            let spam = match c.u8()? {
                0 => false,
                1 => true,
                _ => return Err(PersistError::Corrupt("history label")),
            };
            history.push_back((score, spam));
        }
        if !c.buf.is_empty() {
            return Err(PersistError::Corrupt("trailing bytes"));
        }
        let mut overlay = Self { cells, seen, base: fingerprint, history, since_update, thresholds: None };
        overlay.update_thresholds(base);
        overlay.since_update = since_update;
        Ok(overlay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        let fc = FeatureConfig { bits: 16, ..FeatureConfig::default() };
        let online = FtrlParams { alpha: 0.1, beta: 1.0, l1: 0.0, l2: 0.0 };
        let mut m = Model::untrained(fc, online);
        m.weights[3] = 0.25;
        m.weights[60_000] = -1.5;
        m.thresholds = Thresholds { doubt: 0.5, spam: 1.0, blatant: 4.0 };
        m.seen = Seen { ham: 10, spam: 12 };
        Model::from_parts(m.features, m.weights, m.thresholds, m.online, m.policy, m.seen)
    }

    fn bytes(m: &Model) -> Vec<u8> {
        let mut v = Vec::new();
        let n = m.write_to(&mut v).expect("write to a Vec");
        assert_eq!(n, v.len());
        v
    }

    #[test]
    fn model_round_trip() {
        let m = model();
        let v = bytes(&m);
        let back = Model::read_from(&mut v.as_slice()).expect("read back");
        assert_eq!(back, m);
        assert_eq!(back.fingerprint(), m.fingerprint());
    }

    #[test]
    fn every_feature_switch_round_trips() {
        for flags in 0..16u8 {
            let (bigrams, cues, length, function_words) =
                (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0, flags & 8 != 0);
            let m = model();
            let features = FeatureConfig { bigrams, cues, length, function_words, ..m.features };
            let m = Model::from_parts(features, m.weights, m.thresholds, m.online, m.policy, m.seen);
            let back = Model::read_from(&mut bytes(&m).as_slice()).expect("read back");
            assert_eq!(back.features, features);
            assert_eq!(back, m);
        }
    }

    /// The model's file as format `version` would hold it, with `feature_byte`:
    /// before version 3, without the doubt threshold (bytes 16..20) and its
    /// target (bytes 48..52).
    fn written_as(m: &Model, version: u16, feature_byte: u8) -> Vec<u8> {
        let mut v = bytes(m);
        v.truncate(v.len() - 4);
        if version < 3 {
            v.drain(48..52);
            v.drain(16..20);
        }
        v[8..10].copy_from_slice(&version.to_le_bytes());
        v[13] = feature_byte;
        let sum = crc32fast::hash(&v);
        v.extend_from_slice(&sum.to_le_bytes());
        v
    }

    #[test]
    fn older_files_are_still_read() {
        let m = model();
        // Early version 1 wrote 0 or 1 (bigrams); later version 1 and version 2 also the cue bit.
        for version in [1, 2] {
            for (byte, bigrams, cues) in [(0, false, false), (1, true, false), (2, false, true), (3, true, true)] {
                let back = Model::read_from(&mut written_as(&m, version, byte).as_slice()).expect("older files read");
                assert_eq!((back.features.bigrams, back.features.cues), (bigrams, cues), "byte {byte}");
                // Trained with the length class and function words, and no doubt zone of their own.
                assert!(back.features.length && back.features.function_words);
                assert_eq!(back.weights, m.weights);
                let t = back.thresholds();
                assert_eq!((t.doubt, t.spam, t.blatant), (m.thresholds.spam, m.thresholds.spam, m.thresholds.blatant));
                assert_eq!(back.policy.target_fpr, m.policy.target_fpr);
                assert_eq!(back.policy.doubt_fpr, m.policy.target_fpr, "no doubt zone for their sites either");
                assert_eq!(back.policy.min_spam, m.policy.min_spam);
            }
        }
        // Flags no version knows are refused: the length and function-word bits before version 3.
        for (version, byte) in [(1, 0b100), (2, 0b1000), (VERSION, 0b1_0000)] {
            let v = written_as(&m, version, byte);
            assert!(matches!(Model::read_from(&mut v.as_slice()), Err(PersistError::Corrupt(_))), "version {version}");
        }
    }

    #[test]
    fn truncated_files_are_errors() {
        let v = bytes(&model());
        for len in [0, 4, 8, 9, 12, 20, v.len() / 2, v.len() - 1] {
            let r = Model::read_from(&mut &v[..len]);
            assert!(r.is_err(), "length {len} was accepted");
        }
        assert!(matches!(Model::read_from(&mut &v[..v.len() - 1]), Err(PersistError::ChecksumMismatch)));
        assert!(matches!(Model::read_from(&mut &v[..5]), Err(PersistError::Truncated)));
    }

    #[test]
    fn corrupted_files_are_errors() {
        let v = bytes(&model());
        for i in 0..v.len() {
            let mut bad = v.clone();
            bad[i] ^= 0x10;
            assert!(Model::read_from(&mut bad.as_slice()).is_err(), "flip at byte {i} was accepted");
        }
        let mut other = v.clone();
        other[..8].copy_from_slice(b"NOTAMODL");
        assert!(matches!(Model::read_from(&mut other.as_slice()), Err(PersistError::BadMagic)));
        let mut newer = v[..v.len() - 4].to_vec();
        newer[8] = 9;
        let sum = crc32fast::hash(&newer);
        newer.extend_from_slice(&sum.to_le_bytes());
        assert!(matches!(Model::read_from(&mut newer.as_slice()), Err(PersistError::UnsupportedVersion(9))));
    }

    #[test]
    fn overlay_round_trip_and_base_check() {
        let m = model();
        let mut o = Overlay::new(&m);
        o.cells.insert(5, Cell { z: -2.0, n: 4.0, w: 0.0 });
        o.cells.insert(65_536, Cell { z: 1.0, n: 1.0, w: 0.0 });
        o.seen = Seen { ham: 1, spam: 1 };
        o.history.extend([(1.5, true), (-2.0, false)]);
        o.since_update = 2;
        let p = m.online_params();
        for c in o.cells.values_mut() {
            c.w = Cell::weight(f64::from(c.z), f64::from(c.n), &p) as f32;
        }
        let mut v = Vec::new();
        o.write_to(&mut v).expect("write to a Vec");
        let back = Overlay::read_from(&mut v.as_slice(), &m).expect("read back");
        assert_eq!(back, o);
        let other = m.with_thresholds(Thresholds { doubt: 1.0, spam: 2.0, blatant: 3.0 });
        assert!(matches!(Overlay::read_from(&mut v.as_slice(), &other), Err(PersistError::BaseMismatch)));
        assert!(matches!(Overlay::read_from(&mut &v[..v.len() - 3], &m), Err(PersistError::ChecksumMismatch)));
        assert!(matches!(Model::read_from(&mut v.as_slice()), Err(PersistError::BadMagic)));
    }
}
