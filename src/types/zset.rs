//! PLACEHOLDER (types-base branch only): replace with the real ZSet type.

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSet {}

impl ZSet {
    pub fn len(&self) -> usize {
        0
    }
    pub fn is_empty(&self) -> bool {
        true
    }
    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        ""
    }
}
