//! Errors of keyspace operations and the exact texts Redis answers for them.
//!
//! The `op_*` functions of every family return [`OpError`]: they know nothing of RESP. A
//! command turns one into its reply through [`OpError::message`], the only place a status
//! becomes a text. The texts are Redis 7.0's, byte for byte (the differential tests compare
//! them with redis-server's); the `ERR_*` constants are the texts argument parsers answer
//! directly.

use super::Ctx;

pub const ERR_SYNTAX: &str = "ERR syntax error";
pub const ERR_WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const ERR_NOT_INT: &str = "ERR value is not an integer or out of range";
pub const ERR_NOT_FLOAT: &str = "ERR value is not a valid float";
pub const ERR_OVERFLOW: &str = "ERR increment or decrement would overflow";
pub const ERR_NO_KEY: &str = "ERR no such key";
pub const ERR_DB_RANGE: &str = "ERR DB index is out of range";
pub const ERR_POSITIVE: &str = "ERR value is out of range, must be positive";
pub const ERR_NUMKEYS: &str = "ERR numkeys should be greater than 0";
pub const ERR_NUMKEYS_ARGS: &str = "ERR Number of keys can't be greater than number of args";
pub const ERR_COUNT_POSITIVE: &str = "ERR count should be greater than 0";
pub const ERR_COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
pub const ERR_LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";
pub const ERR_MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";
pub const ERR_RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 \
                                 from the second ... or use negative to start from the end of \
                                 the list";
/// SRANDMEMBER's and HRANDFIELD's count of i64::MIN (outside -LONG_MAX..=LONG_MAX).
pub const ERR_RANDOM_COUNT_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
pub const ERR_EXPIRE_SET: &str = "ERR invalid expire time in 'set' command";
pub const ERR_EXPIRE_SETEX: &str = "ERR invalid expire time in 'setex' command";
pub const ERR_EXPIRE_PSETEX: &str = "ERR invalid expire time in 'psetex' command";
pub const ERR_EXPIRE_GETEX: &str = "ERR invalid expire time in 'getex' command";

/// Why a keyspace operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpError {
    /// The key holds a value of another type.
    WrongType,
    Syntax,
    /// A stored value or an argument is not a 64-bit integer.
    NotInteger,
    /// A stored value or an argument is not a float (`string2ld` / `strtod` rules).
    NotFloat,
    /// INCR/INCRBY/DECR or HINCRBY past the i64 range.
    IncrOverflow,
    /// DECRBY of i64::MIN, whose negation overflows.
    DecrOverflow,
    /// INCRBYFLOAT's or HINCRBYFLOAT's result is infinite.
    NanOrInfinity,
    /// HINCRBYFLOAT's increment is infinite.
    IncrNotFinite,
    /// ZADD INCR / ZINCRBY produced NaN (inf + -inf).
    NanScore,
    /// HINCRBY's stored value is not an integer.
    HashValueNotInteger,
    /// HINCRBYFLOAT's stored value is not a float.
    HashValueNotFloat,
    /// The key does not exist where it must (LSET, RENAME).
    NoSuchKey,
    /// LSET past the end of the list.
    IndexOutOfRange,
    /// "ERR value is out of range" (HRANDFIELD ... WITHVALUES, ZRANDMEMBER counts).
    OutOfRange,
    /// HRANDFIELD's count is i64::MIN.
    RandomCountRange,
    /// SETRANGE's offset is negative.
    OffsetOutOfRange,
    /// The result would be longer than proto-max-bulk-len.
    StringTooLong,
    /// A ZRANGEBYSCORE-style bound that is not a float.
    MinMaxNotFloat,
    /// A ZRANGEBYLEX-style bound that is not `(`, `[`, `-` or `+` something.
    MinMaxNotLex,
    LcsNotStrings,
    LcsIdxAndLen,
    LcsTooLong,
    LcsMemoryLimit,
    LcsAllocFailed,
    /// A SETBIT/GETBIT/BITFIELD offset that is not an integer, negative or too far.
    BitOffset,
    /// SETBIT's value is not 0 or 1.
    BitValue,
    /// BITPOS's bit is an integer but not 0 or 1.
    BitposBit,
    /// A BITFIELD type that is not i1..i64 or u1..u63.
    BitfieldType,
    BitfieldOverflowType,
    /// BITFIELD_RO given SET or INCRBY.
    BitfieldRoWrite,
    /// BITOP NOT with other than one source.
    BitopNotArity,
    /// RENAME/COPY/MOVE with the same source and destination.
    SameObject,
    /// A DB index that is no database.
    DbRange,
    /// `ERR invalid expire time in '<cmd>' command`; the field is the whole text.
    InvalidExpire(&'static str),
    /// `ERR wrong number of arguments for '<cmd>' command`; the field is the whole text.
    Arity(&'static str),
    /// A string that is not a HyperLogLog given to a PF* command.
    HllNotValid,
    /// A HyperLogLog whose sparse opcodes do not cover its registers.
    HllCorrupt,
}

impl OpError {
    /// Redis's error text for this failure.
    pub fn message(self) -> &'static str {
        match self {
            OpError::WrongType => ERR_WRONGTYPE,
            OpError::Syntax => ERR_SYNTAX,
            OpError::NotInteger => ERR_NOT_INT,
            OpError::NotFloat => ERR_NOT_FLOAT,
            OpError::IncrOverflow => ERR_OVERFLOW,
            OpError::DecrOverflow => "ERR decrement would overflow",
            OpError::NanOrInfinity => "ERR increment would produce NaN or Infinity",
            OpError::IncrNotFinite => "ERR value is NaN or Infinity",
            OpError::NanScore => "ERR resulting score is not a number (NaN)",
            OpError::HashValueNotInteger => "ERR hash value is not an integer",
            OpError::HashValueNotFloat => "ERR hash value is not a float",
            OpError::NoSuchKey => ERR_NO_KEY,
            OpError::IndexOutOfRange => "ERR index out of range",
            OpError::OutOfRange => "ERR value is out of range",
            OpError::RandomCountRange => ERR_RANDOM_COUNT_RANGE,
            OpError::OffsetOutOfRange => "ERR offset is out of range",
            OpError::StringTooLong => {
                "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
            }
            OpError::MinMaxNotFloat => "ERR min or max is not a float",
            OpError::MinMaxNotLex => "ERR min or max not valid string range item",
            OpError::LcsNotStrings => "ERR The specified keys must contain string values",
            OpError::LcsIdxAndLen => {
                "ERR If you want both the length and indexes, please just use IDX."
            }
            OpError::LcsTooLong => "ERR String too long for LCS",
            OpError::LcsMemoryLimit => {
                "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
            }
            OpError::LcsAllocFailed => {
                "ERR Insufficient memory, failed allocating transient memory for LCS"
            }
            OpError::BitOffset => "ERR bit offset is not an integer or out of range",
            OpError::BitValue => "ERR bit is not an integer or out of range",
            OpError::BitposBit => "ERR The bit argument must be 1 or 0.",
            OpError::BitfieldType => {
                "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not \
                 supported but i64 is."
            }
            OpError::BitfieldOverflowType => "ERR Invalid OVERFLOW type specified",
            OpError::BitfieldRoWrite => "ERR BITFIELD_RO only supports the GET subcommand",
            OpError::BitopNotArity => "ERR BITOP NOT must be called with a single source key.",
            OpError::SameObject => "ERR source and destination objects are the same",
            OpError::DbRange => ERR_DB_RANGE,
            OpError::InvalidExpire(text) | OpError::Arity(text) => text,
            OpError::HllNotValid => "WRONGTYPE Key is not a valid HyperLogLog string value.",
            OpError::HllCorrupt => "INVALIDOBJ Corrupted HLL object detected",
        }
    }
}

/// Answers `e` as the command's reply.
pub fn reply_err(ctx: &mut Ctx<'_>, e: OpError) {
    ctx.err(e.message());
}
