//! Values stored in the keyspace.
//!
//! A string is kept in the cheapest of four forms: a canonical decimal integer as `Int`
//! (what Redis calls the `int` encoding), a short unmodified string inline (`Small`), a longer
//! unmodified string on the heap (`Emb`, Redis's `embstr`), or a string that APPEND/SETRANGE
//! changed in place (`Raw`). The split between `Emb` and `Raw` exists only so OBJECT ENCODING
//! answers what Redis would; the bytes are the same. `Value` stays 24 bytes so that it fits in
//! the hash table entry without an extra allocation.

use crate::ds::small_str::SmallStr;

/// Redis stores strings up to this length as `embstr`.
pub const EMBSTR_LEN_MAX: usize = 44;

#[derive(Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Small(SmallStr),
    Emb(Box<[u8]>),
    Raw(Box<[u8]>),
    List(Box<crate::types::list::List>),
    Hash(Box<crate::types::hash::Hash>),
    Set(Box<crate::types::set::Set>),
    ZSet(Box<crate::types::zset::ZSet>),
    Stream(Box<crate::types::stream::Stream>),
}

/// Type names as TYPE reports them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ValueType {
    String,
    List,
    Hash,
    Set,
    ZSet,
    Stream,
}

impl ValueType {
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::List => "list",
            ValueType::Hash => "hash",
            ValueType::Set => "set",
            ValueType::ZSet => "zset",
            ValueType::Stream => "stream",
        }
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut b = itoa::Buffer::new();
        match self.str_bytes(&mut b) {
            Some(s) => write!(f, "{:?}", String::from_utf8_lossy(s)),
            None => write!(f, "<{}>", self.value_type().name()),
        }
    }
}

impl Value {
    /// Builds a string value from bytes, choosing the cheapest form, as Redis's
    /// `tryObjectEncoding` does: a canonical integer of at most 20 chars becomes `Int`.
    pub fn from_bytes(bytes: &[u8]) -> Value {
        if bytes.len() <= 20 {
            if let Some(n) = crate::util::num::parse_i64_strict(bytes) {
                return Value::Int(n);
            }
        }
        Value::from_bytes_no_int(bytes)
    }

    /// Like `from_bytes` but never converts to an integer.
    pub fn from_bytes_no_int(bytes: &[u8]) -> Value {
        match SmallStr::new(bytes) {
            Some(s) => Value::Small(s),
            None => Value::Emb(bytes.into()),
        }
    }

    /// A string that was modified in place (APPEND, SETRANGE): Redis reports `raw`.
    pub fn raw(bytes: Vec<u8>) -> Value {
        Value::Raw(bytes.into_boxed_slice())
    }

    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Int(_) | Value::Small(_) | Value::Emb(_) | Value::Raw(_) => ValueType::String,
            Value::List(_) => ValueType::List,
            Value::Hash(_) => ValueType::Hash,
            Value::Set(_) => ValueType::Set,
            Value::ZSet(_) => ValueType::ZSet,
            Value::Stream(_) => ValueType::Stream,
        }
    }

    pub fn is_string(&self) -> bool {
        self.value_type() == ValueType::String
    }

    /// The bytes of a string value (formatting an integer into `buf`), or None for other types.
    pub fn str_bytes<'a>(&'a self, buf: &'a mut itoa::Buffer) -> Option<&'a [u8]> {
        match self {
            Value::Int(n) => Some(buf.format(*n).as_bytes()),
            Value::Small(s) => Some(s.as_bytes()),
            Value::Emb(b) | Value::Raw(b) => Some(b),
            _ => None,
        }
    }

    /// Length in bytes of a string value.
    pub fn str_len(&self) -> Option<usize> {
        let mut b = itoa::Buffer::new();
        self.str_bytes(&mut b).map(|s| s.len())
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Small(_) => "embstr",
            Value::Emb(b) if b.len() <= EMBSTR_LEN_MAX => "embstr",
            Value::Emb(_) | Value::Raw(_) => "raw",
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// Number of elements, for the lazy-free decision (strings count as one).
    pub fn element_count(&self) -> usize {
        match self {
            Value::List(l) => l.len(),
            Value::Hash(h) => h.len(),
            Value::Set(s) => s.len(),
            Value::ZSet(z) => z.len(),
            Value::Stream(s) => s.len() as usize,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_is_24_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
    }

    #[test]
    fn forms() {
        assert!(matches!(Value::from_bytes(b"123"), Value::Int(123)));
        assert!(matches!(Value::from_bytes(b"0123"), Value::Small(_)));
        assert!(matches!(Value::from_bytes(&[b'a'; 30]), Value::Emb(_)));
        assert_eq!(Value::from_bytes(&[b'a'; 30]).encoding(), "embstr");
        assert_eq!(Value::from_bytes(&[b'a'; 45]).encoding(), "raw");
        let mut b = itoa::Buffer::new();
        assert_eq!(Value::Int(-5).str_bytes(&mut b).unwrap(), b"-5");
    }
}
