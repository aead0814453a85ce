//! A byte string of at most [`SMALL_LEN_MAX`] bytes stored inline (23 bytes, no allocation):
//! the short form of keyspace strings (`keyspace::value::Value::Small`) and of hash field
//! values in a hash table (`types::hash`), so that either fits a 24-byte slot.

/// Longest string stored inline.
pub const SMALL_LEN_MAX: usize = 22;

#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SmallStr {
    len: u8,
    buf: [u8; SMALL_LEN_MAX],
}

impl SmallStr {
    /// The bytes inline, or None if they are longer than `SMALL_LEN_MAX`.
    pub fn new(bytes: &[u8]) -> Option<SmallStr> {
        if bytes.len() > SMALL_LEN_MAX {
            return None;
        }
        let mut buf = [0u8; SMALL_LEN_MAX];
        buf[..bytes.len()].copy_from_slice(bytes);
        Some(SmallStr {
            len: bytes.len() as u8,
            buf,
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_up_to_22_bytes_in_23() {
        assert_eq!(std::mem::size_of::<SmallStr>(), 23);
        assert_eq!(SmallStr::new(b"").unwrap().as_bytes(), b"");
        let full = [7u8; SMALL_LEN_MAX];
        assert_eq!(SmallStr::new(&full).unwrap().as_bytes(), &full);
        assert!(SmallStr::new(&[0u8; SMALL_LEN_MAX + 1]).is_none());
    }
}
