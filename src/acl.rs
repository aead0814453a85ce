//! Access control lists, as Redis 7.0: users, their rules, the permission check every command
//! passes, and the ACL log. The commands that show and change this state are in `cmd::acl`;
//! `cmd::call` asks [`Acl::check`] before a command runs (or is queued), EXEC asks again
//! before each queued command runs, and a script's `redis.call` asks for the calling user.
//!
//! A user is a name, flags (on/off, nopass, the RESTORE sanitizing flags), SHA-256 password
//! hashes (lowercase hex, compared in constant time) and one or more selectors: the root
//! selector (the rules written outside parentheses) and any added with `(...)`. A selector
//! allows commands (one bit per entry of the server's `all_commands`, plus a bit for "future
//! commands" that only `+@all` sets, plus allowed first arguments such as `+select|0`), key
//! patterns with read/write permissions, and channel patterns. A command is allowed when one
//! selector allows all of it.
//!
//! Invariants: user id 0 is `default` and always exists; a connection's user id names a live
//! user (deleting or replacing a user moves its connections to `default`, unauthenticated,
//! and closes them); `unrestricted[id]` is true exactly when one of the user's selectors
//! allows every command, key and channel, which is the one branch the hot path pays for.

use crate::cmd::table::{key_flags, BeginSearch, Command, FindKeys, KeyRef};
use crate::resp::Argv;
use std::collections::{BTreeMap, VecDeque};

/// Key permissions of a key pattern.
pub const PERM_READ: u8 = 1;
pub const PERM_WRITE: u8 = 2;
pub const PERM_ALL: u8 = PERM_READ | PERM_WRITE;

/// User flags, in the order Redis prints them.
const USER_ON: u8 = 1;
const USER_OFF: u8 = 2;
const USER_NOPASS: u8 = 4;
const USER_SKIP_SANITIZE: u8 = 8;
const USER_SANITIZE: u8 = 16;
const USER_FLAG_NAMES: [(u8, &str); 5] = [
    (USER_ON, "on"),
    (USER_OFF, "off"),
    (USER_NOPASS, "nopass"),
    (USER_SKIP_SANITIZE, "skip-sanitize-payload"),
    (USER_SANITIZE, "sanitize-payload"),
];

/// The most ACL LOG entries scanned for one to merge a new event into (Redis's bound).
const LOG_MERGE_SCAN: usize = 10;
/// Events further apart than this are never merged into one entry.
const LOG_MERGE_WINDOW_MS: u64 = 60_000;
/// Most arguments whose slices are collected on the stack for the key finder.
const STACK_ARGS: usize = 32;

/// Why a command was denied, ordered as Redis's ACL_DENIED_* (the highest wins when several
/// selectors deny for different reasons).
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
pub enum Denied {
    Cmd = 1,
    Key = 2,
    Auth = 3,
    Channel = 4,
}

impl Denied {
    fn reason(self) -> &'static str {
        match self {
            Denied::Cmd => "command",
            Denied::Key => "key",
            Denied::Auth => "auth",
            Denied::Channel => "channel",
        }
    }
}

/// Where a denied command came from, for the ACL log.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LogContext {
    TopLevel,
    Multi,
    Lua,
}

impl LogContext {
    fn name(self) -> &'static str {
        match self {
            LogContext::TopLevel => "toplevel",
            LogContext::Multi => "multi",
            LogContext::Lua => "lua",
        }
    }
}

/// A rule that could not be applied; the text is Redis's.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RuleError {
    UnknownName,
    Syntax,
    KeyAfterAll,
    ChannelAfterAll,
    NoSuchPassword,
    BadHash,
    FirstArgOfSubcommand,
    Duplicate,
}

impl RuleError {
    pub fn text(self) -> &'static str {
        match self {
            RuleError::UnknownName => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeyAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::ChannelAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
            RuleError::Duplicate => "Duplicate user found. A user can only be defined once in config files",
        }
    }
}

/// The command table as ACL rules see it: `all_commands`' order (each container followed by
/// its subcommands) and, for each entry, the range of its subcommands.
#[derive(Clone)]
struct Table {
    cmds: Vec<&'static Command>,
    /// For each index: `(first, end)` of its subcommands (empty for a leaf).
    subs: Vec<(usize, usize)>,
    /// For each index: how its keys are found, decided once here.
    shapes: Vec<KeyShape>,
}

/// How a command's keys are found by the check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyShape {
    /// No keys.
    None,
    /// One or two key specs at fixed positions: `(first, lastkey, step, flags)` as the specs
    /// state them; `variable` when the flags depend on the other arguments (SET ... GET).
    Fixed {
        ranges: [(i32, i32, i32, u32); 2],
        n: usize,
        variable: bool,
    },
    /// Anything else: the table's key finder decides.
    General,
}

impl KeyShape {
    fn of(c: &Command) -> KeyShape {
        if !c.has_keys() {
            return KeyShape::None;
        }
        let mut ranges = [(0, 0, 0, 0); 2];
        let (mut n, mut variable) = (0, false);
        for s in c.key_specs {
            // As `Command::find_keys`: variable flags anywhere send it to the key finder.
            variable |= s.flags & key_flags::VARIABLE_FLAGS != 0;
            if s.flags & key_flags::NOT_KEY != 0 {
                continue;
            }
            if s.flags & key_flags::INCOMPLETE != 0 || n == ranges.len() {
                return KeyShape::General;
            }
            match (s.begin_search, s.find_keys) {
                (
                    BeginSearch::Index(first),
                    FindKeys::Range {
                        lastkey,
                        keystep,
                        limit: 0,
                    },
                ) => {
                    ranges[n] = (first, lastkey, keystep.max(1), s.flags);
                    n += 1;
                }
                _ => return KeyShape::General,
            }
        }
        if n == 0 {
            return KeyShape::General;
        }
        KeyShape::Fixed {
            ranges,
            n,
            variable,
        }
    }
}

impl Table {
    fn new(cmds: &[&'static Command]) -> Table {
        let mut subs = vec![(0, 0); cmds.len()];
        for (i, c) in cmds.iter().enumerate() {
            subs[i] = (i + 1, i + 1 + c.subcommands.len());
        }
        Table {
            cmds: cmds.to_vec(),
            subs,
            shapes: cmds.iter().map(|c| KeyShape::of(c)).collect(),
        }
    }

    /// A command by its full name (`get`, `config|get`), any case.
    fn find(&self, name: &[u8]) -> Option<usize> {
        self.cmds
            .iter()
            .position(|c| c.name.as_bytes().eq_ignore_ascii_case(name))
    }

    fn is_sub(&self, i: usize) -> bool {
        self.cmds[i].name.contains('|')
    }
}

/// A key pattern and the permissions it grants.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct KeyPattern {
    pub pattern: Vec<u8>,
    pub perms: u8,
    /// `Some(n)` when the pattern is `n` literal bytes then one `*` (`app:*`): a prefix
    /// test gives the glob's answer without running the matcher.
    prefix_len: Option<usize>,
    /// For a prefix of at most 8 bytes: the prefix as a little-endian word and the mask of
    /// its bytes, so that a key of 8 bytes or more is tested with one load and compare.
    prefix_word: (u64, u64),
}

impl KeyPattern {
    fn new(pattern: &[u8], perms: u8) -> KeyPattern {
        let literal = |b: &[u8]| !b.iter().any(|c| matches!(c, b'*' | b'?' | b'[' | b'\\'));
        let prefix_len = match pattern.split_last() {
            Some((b'*', head)) if literal(head) => Some(head.len()),
            _ => None,
        };
        let mut prefix_word = (0, 0);
        if let Some(n) = prefix_len.filter(|&n| n <= 8) {
            let mut word = [0u8; 8];
            word[..n].copy_from_slice(&pattern[..n]);
            let mask = if n == 8 {
                u64::MAX
            } else {
                (1u64 << (8 * n)) - 1
            };
            prefix_word = (u64::from_le_bytes(word), mask);
        }
        KeyPattern {
            pattern: pattern.to_vec(),
            perms,
            prefix_len,
            prefix_word,
        }
    }

    #[inline]
    fn matches(&self, key: &[u8]) -> bool {
        match self.prefix_len {
            // As Redis's matcher, `*` alone does not match the empty string.
            Some(n) if n <= 8 && key.len() >= 8 => {
                let head = u64::from_le_bytes(key[..8].try_into().unwrap_or_default());
                head & self.prefix_word.1 == self.prefix_word.0
            }
            Some(n) => key.len() >= n.max(1) && bytes_eq(&key[..n], &self.pattern[..n]),
            None => crate::util::glob::glob_match(&self.pattern, key, false),
        }
    }

    fn describe(&self, out: &mut String) {
        match self.perms {
            PERM_ALL => out.push('~'),
            PERM_READ => out.push_str("%R~"),
            PERM_WRITE => out.push_str("%W~"),
            _ => out.push_str("%~"),
        }
        out.push_str(&String::from_utf8_lossy(&self.pattern));
    }
}

/// One set of permissions: commands, keys, channels.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Selector {
    /// Every command bit is set and none was cleared since (`+@all`, `allcommands`).
    all_commands: bool,
    /// Redis's reserved "future commands" bit: set by `+@all`, cleared by `-@all`.
    future: bool,
    bits: Vec<u64>,
    /// Allowed first arguments of otherwise denied commands (`+select|0`), by command index.
    first_args: Vec<(usize, Vec<Vec<u8>>)>,
    all_keys: bool,
    patterns: Vec<KeyPattern>,
    /// Some pattern grants only read or only write: the keys' access flags matter.
    flags_matter: bool,
    all_channels: bool,
    channels: Vec<Vec<u8>>,
}

impl Selector {
    fn new(ncmds: usize, pubsub_all: bool) -> Selector {
        Selector {
            all_commands: false,
            future: false,
            bits: vec![0; ncmds.div_ceil(64)],
            first_args: Vec::new(),
            all_keys: false,
            patterns: Vec::new(),
            flags_matter: false,
            all_channels: pubsub_all,
            channels: Vec::new(),
        }
    }

    #[inline]
    fn bit(&self, i: usize) -> bool {
        self.bits[i / 64] & (1 << (i % 64)) != 0
    }

    fn set_bit(&mut self, i: usize, v: bool) {
        if v {
            self.bits[i / 64] |= 1 << (i % 64);
        } else {
            self.bits[i / 64] &= !(1 << (i % 64));
            self.all_commands = false;
        }
    }

    /// Allows or denies a command and, for a container, all its subcommands; its first
    /// arguments are forgotten (Redis's `ACLChangeSelectorPerm`).
    fn change_perm(&mut self, t: &Table, i: usize, allow: bool) {
        self.set_bit(i, allow);
        self.first_args.retain(|(c, _)| *c != i);
        let (a, b) = t.subs[i];
        for s in a..b {
            self.set_bit(s, allow);
        }
    }

    fn set_category(&mut self, t: &Table, cat: u32, allow: bool) {
        for i in 0..t.cmds.len() {
            if t.cmds[i].acl & cat != 0 {
                self.change_perm(t, i, allow);
            }
        }
    }

    fn set_all(&mut self, allow: bool) {
        let fill = if allow { u64::MAX } else { 0 };
        self.bits.iter_mut().for_each(|w| *w = fill);
        self.all_commands = allow;
        self.future = allow;
        self.first_args.clear();
    }

    fn count_category(&self, t: &Table, cat: u32) -> (usize, usize) {
        let (mut on, mut off) = (0, 0);
        for i in 0..t.cmds.len() {
            if t.cmds[i].acl & cat != 0 {
                if self.bit(i) {
                    on += 1;
                } else {
                    off += 1;
                }
            }
        }
        (on, off)
    }

    /// Applies one selector rule (Redis's `ACLSetSelector`).
    fn apply(&mut self, t: &Table, op: &[u8]) -> Result<(), RuleError> {
        let r = self.apply_rule(t, op);
        self.flags_matter = self.patterns.iter().any(|p| p.perms != PERM_ALL);
        r
    }

    fn apply_rule(&mut self, t: &Table, op: &[u8]) -> Result<(), RuleError> {
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("allkeys") || op == b"~*" {
            self.all_keys = true;
            self.patterns.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.patterns.clear();
        } else if is("allchannels") || op == b"&*" {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.set_all(true);
        } else if is("nocommands") || is("-@all") {
            self.set_all(false);
        } else if op[0] == b'~' || op[0] == b'%' {
            if self.all_keys {
                return Err(RuleError::KeyAfterAll);
            }
            let mut perms = 0;
            let mut offset = 1;
            if op[0] == b'%' {
                while offset < op.len() {
                    let ch = op[offset].to_ascii_uppercase();
                    if ch == b'R' && perms & PERM_READ == 0 {
                        perms |= PERM_READ;
                    } else if ch == b'W' && perms & PERM_WRITE == 0 {
                        perms |= PERM_WRITE;
                    } else if op[offset] == b'~' {
                        offset += 1;
                        break;
                    } else {
                        return Err(RuleError::Syntax);
                    }
                    offset += 1;
                }
            } else {
                perms = PERM_ALL;
            }
            let pattern = &op[offset.min(op.len())..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            match self.patterns.iter_mut().find(|p| p.pattern == pattern) {
                Some(p) => p.perms |= perms,
                None => self.patterns.push(KeyPattern::new(pattern, perms)),
            }
            self.all_keys = false;
        } else if op[0] == b'&' {
            if self.all_channels {
                return Err(RuleError::ChannelAfterAll);
            }
            let pattern = &op[1..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
            self.all_channels = false;
        } else if op[0] == b'+' && op.get(1) != Some(&b'@') {
            let name = &op[1..];
            match memchr::memrchr(b'|', name) {
                None => {
                    let i = t.find(name).ok_or(RuleError::UnknownName)?;
                    self.change_perm(t, i, true);
                }
                Some(bar) => {
                    let (base, sub) = (&name[..bar], &name[bar + 1..]);
                    let i = t.find(base).ok_or(RuleError::UnknownName)?;
                    if t.is_sub(i) {
                        return Err(RuleError::FirstArgOfSubcommand);
                    }
                    if sub.is_empty() {
                        return Err(RuleError::Syntax);
                    }
                    if t.cmds[i].subcommands.is_empty() {
                        // A first argument of a command without subcommands (`+select|0`).
                        match self.first_args.iter_mut().find(|(c, _)| *c == i) {
                            Some((_, list)) => {
                                if !list.iter().any(|a| a.eq_ignore_ascii_case(sub)) {
                                    list.push(sub.to_vec());
                                }
                            }
                            None => self.first_args.push((i, vec![sub.to_vec()])),
                        }
                    } else {
                        let s = t.find(name).ok_or(RuleError::UnknownName)?;
                        self.change_perm(t, s, true);
                    }
                }
            }
        } else if op[0] == b'-' && op.get(1) != Some(&b'@') {
            let i = t.find(&op[1..]).ok_or(RuleError::UnknownName)?;
            self.change_perm(t, i, false);
        } else if (op[0] == b'+' || op[0] == b'-') && op.get(1) == Some(&b'@') {
            let cat = crate::cmd::table::acl::by_name(&op[2..]).ok_or(RuleError::UnknownName)?;
            self.set_category(t, cat, op[0] == b'+');
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// The command rules that rebuild this selector's bits (Redis's
    /// `ACLDescribeSelectorCommandRules`): `+@all` or `-@all`, then the categories that fit
    /// best, then single commands and first arguments. Single commands follow the table's
    /// order (Redis follows its hash table's).
    fn describe_commands(&self, t: &Table) -> String {
        let mut rules = String::new();
        let additive = !self.future;
        let mut fake = Selector::new(t.cmds.len(), false);
        if additive {
            rules.push_str("-@all ");
        } else {
            rules.push_str("+@all ");
            fake.set_all(true);
        }
        let mut temp = self.clone();
        let mut applied = [false; crate::cmd::table::acl::NAMES.len()];
        // Each turn applies one category, so this ends within the category count.
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (j, (bit, _)) in crate::cmd::table::acl::NAMES.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let (on, off) = temp.count_category(t, *bit);
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            let (bit, name) = crate::cmd::table::acl::NAMES[j];
            fake.set_category(t, bit, additive);
            temp.set_category(t, bit, !additive);
            rules.push_str(if additive { "+@" } else { "-@" });
            rules.push_str(name);
            rules.push(' ');
            applied[j] = true;
        }
        for i in 0..t.cmds.len() {
            let user = self.bit(i);
            if user != fake.bit(i) {
                rules.push(if user { '+' } else { '-' });
                rules.push_str(t.cmds[i].name);
                rules.push(' ');
                fake.change_perm(t, i, user);
            }
            if !user {
                if let Some((_, args)) = self.first_args.iter().find(|(c, _)| *c == i) {
                    for a in args {
                        rules.push('+');
                        rules.push_str(t.cmds[i].name);
                        rules.push('|');
                        rules.push_str(&String::from_utf8_lossy(a));
                        rules.push(' ');
                    }
                }
            }
        }
        rules.pop();
        debug_assert_eq!(fake.bits, self.bits, "described rules rebuild the bits");
        rules
    }

    /// Keys, channels and commands, as ACL LIST shows a selector.
    fn describe(&self, t: &Table) -> String {
        // GETUSER's texts, each followed by a space when there is one.
        let mut out = String::new();
        let mut push_part = |part: &str| {
            if !part.is_empty() {
                out.push_str(part);
                out.push(' ');
            }
        };
        push_part(&self.keys_text());
        if !self.all_channels {
            push_part("resetchannels");
        }
        push_part(&self.channels_text());
        out.push_str(&self.describe_commands(t));
        out
    }

    /// GETUSER's `keys` value.
    pub fn keys_text(&self) -> String {
        if self.all_keys {
            return "~*".into();
        }
        let mut out = String::new();
        for (n, p) in self.patterns.iter().enumerate() {
            if n > 0 {
                out.push(' ');
            }
            p.describe(&mut out);
        }
        out
    }

    /// GETUSER's `channels` value.
    pub fn channels_text(&self) -> String {
        if self.all_channels {
            return "&*".into();
        }
        let mut out = String::new();
        for (n, c) in self.channels.iter().enumerate() {
            if n > 0 {
                out.push(' ');
            }
            out.push('&');
            out.push_str(&String::from_utf8_lossy(c));
        }
        out
    }

    fn unrestricted(&self) -> bool {
        self.all_commands && self.all_keys && self.all_channels
    }

    /// Whether a key may be used with the key spec flags `spec_flags`.
    #[inline(always)]
    fn key_ok(&self, key: &[u8], spec_flags: u32) -> bool {
        if self.all_keys {
            return true;
        }
        let mut need = 0;
        if spec_flags & key_flags::ACCESS != 0 {
            need |= PERM_READ;
        }
        if spec_flags & (key_flags::INSERT | key_flags::DELETE | key_flags::UPDATE) != 0 {
            need |= PERM_WRITE;
        }
        // A plain loop: this runs for every key of a restricted user's commands.
        for p in &self.patterns {
            if p.perms & need == need && p.matches(key) {
                return true;
            }
        }
        false
    }

    /// Whether a channel (or, `is_pattern`, a PSUBSCRIBE pattern, which must be listed
    /// literally) may be used.
    fn channel_ok(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.all_channels || channel_in_list(&self.channels, channel, is_pattern)
    }

    /// The usual case of `check` in a few instructions: an allowed command that is not
    /// Pub/Sub, with no key or one key at a fixed position. None when `check` must decide.
    #[inline(always)]
    fn check_fast(
        &self,
        idx: usize,
        c: &Command,
        shape: &KeyShape,
        argv: &Argv<'_>,
    ) -> Option<Result<(), (Denied, usize)>> {
        if !(self.all_commands || self.bit(idx)) || c.flags & crate::cmd::flags::PUBSUB != 0 {
            return None;
        }
        if self.all_keys || *shape == KeyShape::None {
            return Some(Ok(()));
        }
        if let &KeyShape::Fixed {
            ranges: [(first, 0, _, flags), _],
            n: 1,
            variable,
        } = shape
        {
            let pos = first as usize;
            if !(variable && self.flags_matter) && pos < argv.len() {
                return Some(if self.key_ok(argv.get(pos), flags) {
                    Ok(())
                } else {
                    Err((Denied::Key, pos))
                });
            }
        }
        None
    }

    /// Redis's `ACLSelectorCheckCmd`: Ok, or why not and the argument at fault.
    #[inline(never)]
    fn check(
        &self,
        idx: usize,
        c: &Command,
        shape: &KeyShape,
        argv: &Argv<'_>,
    ) -> Result<(), (Denied, usize)> {
        if !self.all_commands && c.flags & crate::cmd::flags::NO_AUTH == 0 && !self.bit(idx) {
            // The first argument of a subcommand is the one after its name.
            let at = if c.name.contains('|') { 2 } else { 1 };
            let allowed = argv.len() >= 2
                && self
                    .first_args
                    .iter()
                    .find(|(i, _)| *i == idx)
                    .is_some_and(|(_, args)| {
                        args.iter()
                            .any(|a| at < argv.len() && a.eq_ignore_ascii_case(argv.get(at)))
                    });
            if !allowed {
                return Err((Denied::Cmd, 0));
            }
        }
        if !self.all_keys && *shape != KeyShape::None {
            // One key at a fixed position (GET, SET, INCR...): no loop.
            if let &KeyShape::Fixed {
                ranges: [(first, 0, _, flags), _],
                n: 1,
                variable,
            } = shape
            {
                let pos = first as usize;
                if !(variable && self.flags_matter) && pos < argv.len() {
                    if self.key_ok(argv.get(pos), flags) {
                        return self.check_channels(c, argv);
                    }
                    return Err((Denied::Key, pos));
                }
            }
            let mut bad = None;
            // With only read-write patterns the keys' access flags decide nothing.
            for_each_key(c, shape, argv, self.flags_matter, |pos, flags| {
                if self.key_ok(argv.get(pos), flags) {
                    true
                } else {
                    bad = Some(pos);
                    false
                }
            });
            if let Some(pos) = bad {
                return Err((Denied::Key, pos));
            }
        }
        self.check_channels(c, argv)
    }

    /// The channel part of `check`: one flag test for a command that is not Pub/Sub.
    #[inline(always)]
    fn check_channels(&self, c: &Command, argv: &Argv<'_>) -> Result<(), (Denied, usize)> {
        if c.flags & crate::cmd::flags::PUBSUB == 0 || self.all_channels {
            return Ok(());
        }
        self.check_channel_args(c, argv)
    }

    #[inline(never)]
    fn check_channel_args(&self, c: &Command, argv: &Argv<'_>) -> Result<(), (Denied, usize)> {
        if let Some((first, is_pattern)) = channel_args(c) {
            let end = if c.name.ends_with("publish") {
                2.min(argv.len())
            } else {
                argv.len()
            };
            for pos in first..end {
                if !self.channel_ok(argv.get(pos), is_pattern) {
                    return Err((Denied::Channel, pos));
                }
            }
        }
        Ok(())
    }
}

/// Equality of two slices of the same length, inline: key prefixes are short, and a call to
/// memcmp costs more than comparing them here.
#[inline]
fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    debug_assert_eq!(a.len(), b.len());
    let mut i = 0;
    // Eight bytes at a time, then the rest; bounded by the length.
    while i + 8 <= a.len() {
        let x = u64::from_ne_bytes(a[i..i + 8].try_into().unwrap_or_default());
        let y = u64::from_ne_bytes(b[i..i + 8].try_into().unwrap_or_default());
        if x != y {
            return false;
        }
        i += 8;
    }
    a[i..].iter().zip(&b[i..]).all(|(x, y)| x == y)
}

/// Redis's `ACLCheckChannelAgainstList`.
fn channel_in_list(list: &[Vec<u8>], channel: &[u8], is_pattern: bool) -> bool {
    list.iter().any(|p| {
        if is_pattern {
            p.as_slice() == channel
        } else {
            crate::util::glob::glob_match(p, channel, false)
        }
    })
}

/// The channel arguments a command publishes or subscribes to: the first argument index and
/// whether they are patterns. PUBLISH and SPUBLISH name one channel; the unsubscribe
/// commands are never checked (as in Redis).
fn channel_args(c: &Command) -> Option<(usize, bool)> {
    match c.name {
        "publish" | "spublish" | "subscribe" | "ssubscribe" => Some((1, false)),
        "psubscribe" => Some((1, true)),
        _ => None,
    }
}

/// Calls `f(position, key spec flags)` for each key of the command line, until it answers
/// false. The common shape (fixed positions, no variable flags) is read straight from the
/// key specs; any other goes through the table's key finder (`Command::find_keys`, which
/// COMMAND GETKEYS uses too), with the arguments' slices on the stack. When the caller's
/// decision does not depend on the flags (`flags_matter` false), specs whose flags vary
/// with the arguments (SET's GET option) still give the positions.
#[inline]
fn for_each_key(
    c: &Command,
    shape: &KeyShape,
    argv: &Argv<'_>,
    flags_matter: bool,
    mut f: impl FnMut(usize, u32) -> bool,
) {
    if let Some(done) = simple_keys(shape, argv, flags_matter, &mut f) {
        let _ = done;
        return;
    }
    let n = argv.len();
    let keys: Vec<KeyRef> = if n <= STACK_ARGS {
        let mut args: [&[u8]; STACK_ARGS] = [&[]; STACK_ARGS];
        for (i, a) in args.iter_mut().enumerate().take(n) {
            *a = argv.get(i);
        }
        c.find_keys(&args[..n])
    } else {
        let args: Vec<&[u8]> = argv.iter().collect();
        c.find_keys(&args)
    };
    for k in keys {
        if !f(k.pos, k.flags) {
            return;
        }
    }
}

/// The keys of a command whose key specs are all a fixed index with a range (GET, MGET,
/// INCR...): `None` when the specs have another shape or do not fit the arguments, so the
/// general finder decides.
#[inline]
fn simple_keys(
    shape: &KeyShape,
    argv: &Argv<'_>,
    flags_matter: bool,
    f: &mut impl FnMut(usize, u32) -> bool,
) -> Option<bool> {
    let &KeyShape::Fixed {
        ref ranges,
        n,
        variable,
    } = shape
    else {
        return None;
    };
    if variable && flags_matter {
        return None;
    }
    let argc = argv.len() as i64;
    let mut spans = [(0i64, 0i64, 0i64, 0u32); 2];
    for (k, &(first, lastkey, step, flags)) in ranges[..n].iter().enumerate() {
        let first = i64::from(first);
        let last = if lastkey >= 0 {
            first + i64::from(lastkey)
        } else {
            argc + i64::from(lastkey)
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        spans[k] = (first, last, i64::from(step), flags);
    }
    for &(first, last, step, flags) in &spans[..n] {
        let mut i = first;
        while i <= last {
            if !f(i as usize, flags) {
                return Some(false);
            }
            i += step;
        }
    }
    Some(true)
}

/// Redis's `ACLStringHasSpaces`: blanks or NUL.
fn has_spaces(s: &[u8]) -> bool {
    s.iter()
        .any(|&b| b == 0 || b == b' ' || (b'\t'..=b'\r').contains(&b))
}

/// SHA-256 of a password, as lowercase hex.
pub fn hash_password(pass: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(pass);
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

/// Compares two equal-length hashes in time independent of where they differ.
fn hash_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn valid_hash(h: &[u8]) -> bool {
    h.len() == 64
        && h.iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// A user.
#[derive(Clone, Debug)]
pub struct User {
    pub name: Vec<u8>,
    flags: u8,
    passwords: Vec<String>,
    /// `selectors[0]` is the root selector.
    selectors: Vec<Selector>,
}

impl User {
    fn new(name: &[u8], t: &Table, pubsub_all: bool) -> User {
        User {
            name: name.to_vec(),
            flags: USER_OFF,
            passwords: Vec::new(),
            selectors: vec![Selector::new(t.cmds.len(), pubsub_all)],
        }
    }

    pub fn enabled(&self) -> bool {
        self.flags & USER_OFF == 0
    }

    pub fn nopass(&self) -> bool {
        self.flags & USER_NOPASS != 0
    }

    fn set_flag(&mut self, on: u8, off: u8) {
        self.flags = (self.flags | on) & !off;
    }

    /// Applies one rule (Redis's `ACLSetUser`).
    fn apply(&mut self, t: &Table, op: &[u8], pubsub_all: bool) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("on") {
            self.set_flag(USER_ON, USER_OFF);
        } else if is("off") {
            self.set_flag(USER_OFF, USER_ON);
        } else if is("skip-sanitize-payload") {
            self.set_flag(USER_SKIP_SANITIZE, USER_SANITIZE);
        } else if is("sanitize-payload") {
            self.set_flag(USER_SANITIZE, USER_SKIP_SANITIZE);
        } else if is("nopass") {
            self.flags |= USER_NOPASS;
            self.passwords.clear();
        } else if is("resetpass") {
            self.flags &= !USER_NOPASS;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = if op[0] == b'>' {
                hash_password(&op[1..])
            } else {
                if !valid_hash(&op[1..]) {
                    return Err(RuleError::BadHash);
                }
                String::from_utf8_lossy(&op[1..]).into_owned()
            };
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.flags &= !USER_NOPASS;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = if op[0] == b'<' {
                hash_password(&op[1..])
            } else {
                if !valid_hash(&op[1..]) {
                    return Err(RuleError::BadHash);
                }
                String::from_utf8_lossy(&op[1..]).into_owned()
            };
            match self.passwords.iter().position(|p| *p == hash) {
                Some(i) => {
                    self.passwords.remove(i);
                }
                None => return Err(RuleError::NoSuchPassword),
            }
        } else if op[0] == b'(' && op[op.len() - 1] == b')' && op.len() >= 2 {
            let inner = String::from_utf8_lossy(&op[1..op.len() - 1]).into_owned();
            let words = crate::config::split_line(&inner).map_err(|_| RuleError::Syntax)?;
            let mut s = Selector::new(t.cmds.len(), pubsub_all);
            for w in &words {
                if w.is_empty() {
                    continue;
                }
                s.apply(t, w)?;
            }
            self.selectors.push(s);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            self.flags &= !USER_NOPASS;
            self.passwords.clear();
            let root = &mut self.selectors[0];
            root.apply(t, b"resetkeys")?;
            root.apply(t, b"resetchannels")?;
            if pubsub_all {
                root.apply(t, b"allchannels")?;
            }
            self.set_flag(USER_OFF, USER_ON);
            self.set_flag(USER_SANITIZE, USER_SKIP_SANITIZE);
            self.selectors.truncate(1);
            self.selectors[0].set_all(false);
        } else {
            self.selectors[0].apply(t, op)?;
        }
        Ok(())
    }

    /// Flags, passwords and selectors as ACL LIST shows them (after `user <name> `).
    fn describe(&self, t: &Table) -> String {
        let mut out = String::new();
        for (bit, name) in USER_FLAG_NAMES {
            if self.flags & bit != 0 {
                out.push_str(name);
                out.push(' ');
            }
        }
        for p in &self.passwords {
            out.push('#');
            out.push_str(p);
            out.push(' ');
        }
        for (i, s) in self.selectors.iter().enumerate() {
            if i == 0 {
                out.push_str(&s.describe(t));
            } else {
                out.push_str(" (");
                out.push_str(&s.describe(t));
                out.push(')');
            }
        }
        out
    }

    fn unrestricted(&self) -> bool {
        self.selectors.iter().any(Selector::unrestricted)
    }

    /// Every channel pattern of every selector, or None when one selector allows all.
    fn channel_list(&self) -> Option<Vec<Vec<u8>>> {
        if self.selectors.iter().any(|s| s.all_channels) {
            return None;
        }
        Some(
            self.selectors
                .iter()
                .flat_map(|s| s.channels.iter().cloned())
                .collect(),
        )
    }
}

/// What GETUSER shows of a user.
pub struct UserView<'a> {
    pub flags: Vec<&'static str>,
    pub passwords: &'a [String],
    pub selectors: Vec<(String, String, String)>,
}

/// One ACL LOG entry.
#[derive(Clone, Debug)]
pub struct LogEntry {
    pub count: u64,
    pub reason: Denied,
    pub context: LogContext,
    pub object: Vec<u8>,
    pub username: Vec<u8>,
    pub ctime_ms: u64,
    pub client_info: String,
}

impl LogEntry {
    pub fn reason_name(&self) -> &'static str {
        self.reason.reason()
    }

    pub fn context_name(&self) -> &'static str {
        self.context.name()
    }
}

/// All users and the ACL log.
pub struct Acl {
    table: Table,
    users: Vec<Option<User>>,
    /// Indexed like `users`: the user can run anything (one test on the hot path).
    unrestricted: Vec<bool>,
    /// Name → id, in byte order (the order ACL LIST and USERS answer in).
    names: BTreeMap<Vec<u8>, usize>,
    /// The default user needs no password and is enabled: new connections start
    /// authenticated.
    default_open: bool,
    /// Newest first.
    pub log: VecDeque<LogEntry>,
}

pub const DEFAULT_USER: usize = 0;

impl Acl {
    /// The default user only: `on nopass ~* &* +@all`.
    pub fn new(cmds: &[&'static Command]) -> Acl {
        let table = Table::new(cmds);
        let mut acl = Acl {
            users: Vec::new(),
            unrestricted: Vec::new(),
            names: BTreeMap::new(),
            default_open: true,
            log: VecDeque::new(),
            table,
        };
        let u = acl.default_user_rules();
        acl.users.push(Some(u));
        acl.unrestricted.push(true);
        acl.names.insert(b"default".to_vec(), DEFAULT_USER);
        acl.refresh(DEFAULT_USER);
        acl
    }

    fn default_user_rules(&self) -> User {
        let mut u = User::new(b"default", &self.table, false);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            let _ = u.apply(&self.table, op.as_bytes(), false);
        }
        u
    }

    fn refresh(&mut self, id: usize) {
        let open = self.users[id].as_ref().is_some_and(User::unrestricted);
        self.unrestricted[id] = open;
        if id == DEFAULT_USER {
            let d = self.user(DEFAULT_USER);
            self.default_open = d.nopass() && d.enabled();
        }
    }

    /// Whether the user can run anything: the only test a command of such a user pays.
    #[inline(always)]
    pub fn unrestricted(&self, id: usize) -> bool {
        self.unrestricted[id]
    }

    /// Whether a connection that has not authenticated may run commands (Redis's
    /// `authRequired` is the opposite).
    #[inline(always)]
    pub fn default_open(&self) -> bool {
        self.default_open
    }

    pub fn user(&self, id: usize) -> &User {
        self.users[id].as_ref().expect("a connection's user exists")
    }

    pub fn find(&self, name: &[u8]) -> Option<usize> {
        self.names.get(name).copied()
    }

    pub fn user_name(&self, id: usize) -> &[u8] {
        self.users
            .get(id)
            .and_then(|u| u.as_ref())
            .map_or(b"default", |u| &u.name)
    }

    /// User names in order.
    pub fn names(&self) -> impl Iterator<Item = &[u8]> {
        self.names.keys().map(|k| k.as_slice())
    }

    /// `user <name> <rules>` lines, in name order (ACL LIST, ACL SAVE, CONFIG REWRITE).
    pub fn list_lines(&self) -> Vec<String> {
        self.names
            .iter()
            .map(|(name, &id)| {
                format!(
                    "user {} {}",
                    String::from_utf8_lossy(name),
                    self.user(id).describe(&self.table)
                )
            })
            .collect()
    }

    pub fn view(&self, id: usize) -> UserView<'_> {
        let u = self.user(id);
        UserView {
            flags: USER_FLAG_NAMES
                .iter()
                .filter(|(b, _)| u.flags & b != 0)
                .map(|(_, n)| *n)
                .collect(),
            passwords: &u.passwords,
            selectors: u
                .selectors
                .iter()
                .map(|s| {
                    (
                        s.describe_commands(&self.table),
                        s.keys_text(),
                        s.channels_text(),
                    )
                })
                .collect(),
        }
    }

    /// The user for a name and password, if they match an enabled user.
    pub fn authenticate(&self, name: &[u8], pass: &[u8]) -> Option<usize> {
        let id = self.find(name)?;
        let u = self.user(id);
        if !u.enabled() {
            return None;
        }
        if u.nopass() {
            return Some(id);
        }
        let hash = hash_password(pass);
        // Every password is compared, so the time does not tell which one matched.
        let ok = u
            .passwords
            .iter()
            .fold(false, |ok, p| hash_eq(p.as_bytes(), hash.as_bytes()) | ok);
        ok.then_some(id)
    }

    /// A user as `rules` would leave it (the existing one, or a new one), without changing
    /// anything: all the rules apply or none.
    fn staged(
        &self,
        name: &[u8],
        rules: &[Vec<u8>],
        pubsub_all: bool,
    ) -> Result<User, (usize, RuleError)> {
        let mut u = match self.find(name) {
            Some(id) => self.user(id).clone(),
            None => User::new(name, &self.table, pubsub_all),
        };
        for (i, r) in rules.iter().enumerate() {
            u.apply(&self.table, r, pubsub_all).map_err(|e| (i, e))?;
        }
        Ok(u)
    }

    /// ACL SETUSER after the selector arguments were merged: the user's id and its rules
    /// before the change (None for a new user), or the failing rule's index and error.
    pub fn set_user(
        &mut self,
        name: &[u8],
        rules: &[Vec<u8>],
        pubsub_all: bool,
    ) -> Result<(usize, Option<User>), (usize, RuleError)> {
        let u = self.staged(name, rules, pubsub_all)?;
        Ok(self.store(u))
    }

    fn store(&mut self, u: User) -> (usize, Option<User>) {
        match self.find(&u.name) {
            Some(id) => {
                let old = self.users[id].replace(u);
                self.refresh(id);
                (id, old)
            }
            None => {
                let id = match self.users.iter().position(Option::is_none) {
                    Some(free) => free,
                    None => {
                        self.users.push(None);
                        self.unrestricted.push(false);
                        self.users.len() - 1
                    }
                };
                self.names.insert(u.name.clone(), id);
                self.users[id] = Some(u);
                self.refresh(id);
                (id, None)
            }
        }
    }

    /// Removes a user (never `default`); its id, if it existed.
    pub fn delete(&mut self, name: &[u8]) -> Option<usize> {
        let id = self.names.remove(name)?;
        self.users[id] = None;
        self.unrestricted[id] = false;
        Some(id)
    }

    /// `requirepass`: the default user's passwords become this one (or none, `nopass`).
    pub fn set_default_password(&mut self, pass: Option<&[u8]>) {
        let t = self.table.clone();
        let Some(u) = self.users[DEFAULT_USER].as_mut() else {
            return;
        };
        let _ = u.apply(&t, b"resetpass", false);
        match pass {
            Some(p) => {
                let mut op = b">".to_vec();
                op.extend_from_slice(p);
                let _ = u.apply(&t, &op, false);
            }
            None => {
                let _ = u.apply(&t, b"nopass", false);
            }
        }
        self.refresh(DEFAULT_USER);
    }

    /// Redis's `ACLCheckAllUserCommandPerm`: Ok, or the reason and the argument at fault of
    /// the most relevant denial among the selectors.
    #[inline]
    pub fn check(
        &self,
        id: usize,
        idx: usize,
        c: &Command,
        argv: &Argv<'_>,
    ) -> Result<(), (Denied, usize)> {
        let u = self.user(id);
        let shape = &self.table.shapes[idx];
        if let [only] = u.selectors.as_slice() {
            if let Some(r) = only.check_fast(idx, c, shape, argv) {
                return r;
            }
            return only.check(idx, c, shape, argv);
        }
        let mut worst = (Denied::Cmd, 0);
        for s in &u.selectors {
            match s.check(idx, c, shape, argv) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    if e.0 > worst.0 || (e.0 == worst.0 && e.1 > worst.1) {
                        worst = e;
                    }
                }
            }
        }
        Err(worst)
    }

    /// Whether a subscriber with these channels and patterns may keep them under the user's
    /// new rules (Redis kills the ones that may not when SETUSER revokes channels).
    pub fn pubsub_revoked(old: &User, new: &User) -> Option<Vec<Vec<u8>>> {
        let upcoming = new.channel_list()?;
        let kept = old
            .selectors
            .iter()
            .flat_map(|s| s.channels.iter())
            .all(|c| upcoming.contains(c));
        if kept && old.channel_list().is_some() {
            return None;
        }
        Some(upcoming)
    }

    /// Whether a subscription survives a list from [`Acl::pubsub_revoked`].
    pub fn channel_allowed(list: &[Vec<u8>], channel: &[u8], is_pattern: bool) -> bool {
        channel_in_list(list, channel, is_pattern)
    }

    /// Adds an event to the log (merged into a recent similar one), keeping at most
    /// `max_len` entries.
    #[allow(clippy::too_many_arguments)]
    pub fn log_event(
        &mut self,
        reason: Denied,
        context: LogContext,
        object: &[u8],
        username: &[u8],
        now_ms: u64,
        client_info: String,
        max_len: usize,
    ) {
        let found = self.log.iter().take(LOG_MERGE_SCAN).position(|e| {
            e.reason == reason
                && e.context == context
                && e.ctime_ms.abs_diff(now_ms) <= LOG_MERGE_WINDOW_MS
                && e.object == object
                && e.username == username
        });
        if let Some(i) = found {
            let mut e = self.log.remove(i).expect("found above");
            e.client_info = client_info;
            e.ctime_ms = now_ms;
            e.count += 1;
            self.log.push_front(e);
            return;
        }
        self.log.push_front(LogEntry {
            count: 1,
            reason,
            context,
            object: object.to_vec(),
            username: username.to_vec(),
            ctime_ms: now_ms,
            client_info,
        });
        self.log.truncate(max_len);
    }

    /// Checks one `user <name> rules...` definition (a config-file line without `user`):
    /// unknown command names are let through, as Redis checks them only when loading.
    fn check_definition(&self, args: &[Vec<u8>]) -> Result<(), String> {
        let rules = merge_selector_args(&args[1..]).map_err(|i| {
            format!(
                "Error in user declaration '{}': {}",
                String::from_utf8_lossy(&args[1 + i]),
                "Syntax error"
            )
        })?;
        let mut u = User::new(&args[0], &self.table, false);
        for r in &rules {
            match u.apply(&self.table, r, false) {
                Ok(()) | Err(RuleError::UnknownName) => {}
                Err(e) => {
                    return Err(format!(
                        "Error in user declaration '{}': {}",
                        String::from_utf8_lossy(r),
                        e.text()
                    ))
                }
            }
        }
        Ok(())
    }

    /// Loads the users of the config file's `user` lines (each `name rules...`), after the
    /// default user was set up: Redis's `ACLLoadConfiguredUsers`.
    pub fn load_config_users(
        &mut self,
        defs: &[Vec<Vec<u8>>],
        pubsub_all: bool,
    ) -> Result<(), String> {
        for d in defs {
            let name = &d[0];
            if has_spaces(name) {
                return Err("Spaces not allowed in ACL usernames".into());
            }
            let rules = merge_selector_args(&d[1..]).map_err(|_| "Unmatched parenthesis")?;
            let mut u = match self.find(name) {
                Some(id) if id == DEFAULT_USER => {
                    let mut u = self.user(id).clone();
                    let _ = u.apply(&self.table, b"reset", pubsub_all);
                    u
                }
                _ => User::new(name, &self.table, pubsub_all),
            };
            for r in &rules {
                if let Err(e) = u.apply(&self.table, r, pubsub_all) {
                    return Err(format!(
                        "Error loading ACL rule '{}' for the user named '{}': {}",
                        String::from_utf8_lossy(r),
                        String::from_utf8_lossy(name),
                        e.text()
                    ));
                }
            }
            self.store(u);
        }
        Ok(())
    }

    /// ACL LOAD (and start-up with `aclfile`): replaces every user with the file's, or
    /// changes nothing and says why. On success, the ids of the users that were replaced
    /// (all but `default`, whose connections keep it with its new rules).
    pub fn load_file(&mut self, path: &str, pubsub_all: bool) -> Result<Vec<usize>, String> {
        let body = std::fs::read(path).map_err(|e| {
            format!(
                "Error loading ACLs, opening file '{path}': {}",
                strerror(&e)
            )
        })?;
        let mut errors = String::new();
        let mut loaded: BTreeMap<Vec<u8>, User> = BTreeMap::new();
        for (n, raw) in body.split(|&b| b == b'\n').enumerate() {
            let line = trim(raw, b" \t\r\n");
            let linenum = n + 1;
            if line.is_empty() {
                continue;
            }
            let argv: Vec<Vec<u8>> = line
                .split(|&b| b == b' ')
                .filter(|w| !w.is_empty())
                .map(<[u8]>::to_vec)
                .collect();
            if argv.is_empty() {
                continue;
            }
            if argv[0] != b"user" || argv.len() < 2 {
                errors.push_str(&format!(
                    "{path}:{linenum} should start with user keyword followed by the username. "
                ));
                continue;
            }
            if has_spaces(&argv[1]) {
                errors.push_str(&format!(
                    "'{path}:{linenum}: username '{}' contains invalid characters. ",
                    String::from_utf8_lossy(&argv[1])
                ));
                continue;
            }
            if loaded.contains_key(&argv[1]) {
                errors.push_str(&format!(
                    "WARNING: Duplicate user '{}' found on line {linenum}. ",
                    String::from_utf8_lossy(&argv[1])
                ));
                continue;
            }
            let mut u = User::new(&argv[1], &self.table, pubsub_all);
            let rules = match merge_selector_args(&argv[2..]) {
                Ok(r) => r,
                Err(_) => {
                    errors.push_str(&format!(
                        "{path}:{linenum}: Unmatched parenthesis in selector definition."
                    ));
                    Vec::new()
                }
            };
            let mut syntax_error = false;
            for r in &rules {
                let r = trim(r, b"\t\r\n");
                if let Err(e) = u.apply(&self.table, r, pubsub_all) {
                    if e == RuleError::UnknownName {
                        errors.push_str(&format!(
                            "{path}:{linenum}: Error in applying operation '{}': {}. ",
                            String::from_utf8_lossy(r),
                            e.text()
                        ));
                    } else if !syntax_error {
                        errors.push_str(&format!("{path}:{linenum}: {}. ", e.text()));
                        syntax_error = true;
                    }
                }
            }
            loaded.insert(argv[1].clone(), u);
        }
        if !errors.is_empty() {
            errors.push_str(
                "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
            );
            return Err(errors);
        }
        let new_default = loaded
            .remove(b"default".as_slice())
            .unwrap_or_else(|| self.default_user_rules());
        let replaced: Vec<usize> = self
            .names
            .values()
            .copied()
            .filter(|&id| id != DEFAULT_USER)
            .collect();
        for &id in &replaced {
            self.users[id] = None;
            self.unrestricted[id] = false;
        }
        self.names.retain(|_, id| *id == DEFAULT_USER);
        let mut d = new_default;
        d.name = b"default".to_vec();
        self.users[DEFAULT_USER] = Some(d);
        self.refresh(DEFAULT_USER);
        for (_, u) in loaded {
            self.store(u);
        }
        Ok(replaced)
    }

    /// ACL SAVE: every user, written to a temporary file renamed over `path`.
    pub fn save_file(&self, path: &str) -> std::io::Result<()> {
        let mut body = String::new();
        for l in self.list_lines() {
            body.push_str(&l);
            body.push('\n');
        }
        let tmp = format!(
            "{path}.tmp-{}-{}",
            std::process::id(),
            crate::util::unix_ms()
        );
        let res = std::fs::write(&tmp, body.as_bytes()).and_then(|()| std::fs::rename(&tmp, path));
        if res.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        res
    }
}

/// The C library's text for an I/O error, as Redis prints it.
fn strerror(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => nix::errno::Errno::from_raw(n).desc().to_string(),
        None => e.to_string(),
    }
}

fn trim<'a>(s: &'a [u8], set: &[u8]) -> &'a [u8] {
    let start = s.iter().position(|b| !set.contains(b)).unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !set.contains(b))
        .map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

/// Joins a selector written across several arguments (`(+get`, `~x)`) into one, as Redis's
/// `ACLMergeSelectorArguments`; an unclosed one gives the index of its first argument.
pub fn merge_selector_args(args: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::with_capacity(args.len());
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, op) in args.iter().enumerate() {
        if let Some((_, sel)) = open.as_mut() {
            sel.push(b' ');
            sel.extend_from_slice(op);
            if op.last() == Some(&b')') {
                out.push(open.take().expect("open").1);
            }
            continue;
        }
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((j, op.clone()));
            continue;
        }
        out.push(op.clone());
    }
    match open {
        Some((j, _)) => Err(j),
        None => Ok(out),
    }
}

/// The server's command list in `all_commands` order: each container, then its subcommands.
pub fn table_commands() -> Vec<&'static Command> {
    let mut cmds = Vec::new();
    for c in crate::cmd::COMMANDS {
        cmds.push(c);
        cmds.extend(c.subcommands.iter());
    }
    cmds
}

/// Checks a config file `user` line (`name rules...`) before start-up loads it.
pub fn validate_definition(args: &[Vec<u8>]) -> Result<(), String> {
    Acl::new(&table_commands()).check_definition(args)
}

/// The `user ...` lines CONFIG REWRITE writes: every user when no `aclfile` is set (the
/// users then live in the config file), none otherwise (the file is where they are saved).
pub fn config_user_lines(srv: &crate::server::Server) -> Vec<String> {
    if !srv.config.aclfile.is_empty() {
        return Vec::new();
    }
    srv.acl.list_lines()
}

/// Start-up: the config file's `user` lines, or the ACL file, never both (Redis refuses
/// that mix); an error stops the server.
pub fn load_at_startup(acl: &mut Acl, config: &crate::config::Config) -> Result<(), String> {
    if !config.aclfile.is_empty() && !config.acl_users.is_empty() {
        return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
    }
    acl.set_default_password(config.requirepass.as_deref());
    acl.load_config_users(&config.acl_users, config.acl_pubsub_default_all)
        .map_err(|e| format!("{e}\nCritical error while loading ACLs. Exiting."))?;
    if !config.aclfile.is_empty() {
        acl.load_file(&config.aclfile, config.acl_pubsub_default_all)
            .map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl() -> Acl {
        Acl::new(&table_commands())
    }

    fn rules(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn default_user_is_open() {
        let a = acl();
        assert!(a.unrestricted(DEFAULT_USER));
        assert!(a.default_open());
        assert_eq!(a.list_lines(), vec!["user default on nopass ~* &* +@all"]);
    }

    #[test]
    fn describe_rebuilds_the_same_bits() {
        let mut a = acl();
        let r = rules(&[
            "on",
            "+@read",
            "-get",
            "+config|get",
            "+select|0",
            "~a*",
            "%R~b*",
        ]);
        let (id, _) = a.set_user(b"u", &r, false).unwrap();
        let line = a
            .list_lines()
            .into_iter()
            .find(|l| l.starts_with("user u "))
            .unwrap();
        let words: Vec<Vec<u8>> = line
            .split(' ')
            .skip(2)
            .map(|w| w.as_bytes().to_vec())
            .collect();
        let (id2, _) = a.set_user(b"v", &words, false).unwrap();
        assert_eq!(a.user(id).selectors, a.user(id2).selectors);
        assert!(!a.unrestricted(id));
    }

    #[test]
    fn passwords_are_hashed_and_checked() {
        let mut a = acl();
        a.set_user(b"u", &rules(&["on", ">secret"]), false).unwrap();
        assert!(a.authenticate(b"u", b"secret").is_some());
        assert!(a.authenticate(b"u", b"other").is_none());
        assert_eq!(
            hash_password(b"pw"),
            "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4"
        );
    }

    #[test]
    fn prefix_patterns_agree_with_the_glob_matcher() {
        let pats: [&[u8]; 9] = [
            b"app:*",
            b"*",
            b"a?c*",
            b"a[b]*",
            b"a\\*",
            b"",
            b"x*y*",
            b"app:1234*",
            b"app:123456789*",
        ];
        let keys: [&[u8]; 10] = [
            b"app:1",
            b"app",
            b"",
            b"abc",
            b"a*",
            b"ab",
            b"xzy",
            b"app:",
            b"app:123456789",
            b"apq:123456789",
        ];
        for p in pats {
            let kp = KeyPattern::new(p, PERM_ALL);
            for k in keys {
                assert_eq!(
                    kp.matches(k),
                    crate::util::glob::glob_match(p, k, false),
                    "{p:?} {k:?}"
                );
            }
        }
        assert!(KeyPattern::new(b"app:*", PERM_ALL).prefix_len.is_some());
    }

    #[test]
    fn set_keys_without_allocation_when_flags_do_not_matter() {
        // SET's key spec has variable flags: with read-write patterns only, its position
        // comes from the spec; with a read-only pattern, from the key finder.
        let a = acl();
        let set = &a.table.shapes[a.table.find(b"set").unwrap()];
        let bytes = b"SETkv";
        let spans = [
            crate::resp::Span { start: 0, end: 3 },
            crate::resp::Span { start: 3, end: 4 },
            crate::resp::Span { start: 4, end: 5 },
        ];
        let argv = Argv::new(bytes, &spans);
        let mut seen = Vec::new();
        assert_eq!(
            simple_keys(set, &argv, false, &mut |p, _| {
                seen.push(p);
                true
            }),
            Some(true)
        );
        assert_eq!(seen, vec![1]);
        assert_eq!(simple_keys(set, &argv, true, &mut |_, _| true), None);
    }

    #[test]
    fn fixed_key_shapes_agree_with_the_key_finder() {
        // Every command whose keys the check reads from its specs gets the positions and
        // flags COMMAND GETKEYS's finder gives, for argument counts from its arity up.
        let a = acl();
        let words: Vec<Vec<u8>> = (0..12).map(|i| format!("a{i}").into_bytes()).collect();
        for (i, c) in a.table.cmds.iter().enumerate() {
            let shape = &a.table.shapes[i];
            if !matches!(shape, KeyShape::Fixed { .. }) {
                continue;
            }
            let min = c.arity.unsigned_abs() as usize;
            for argc in min..min + 4 {
                if !c.arity_ok(argc) {
                    continue;
                }
                let mut bytes = Vec::new();
                let mut spans = Vec::new();
                for (j, w) in words.iter().take(argc).enumerate() {
                    let w: &[u8] = if j == 0 { c.name.as_bytes() } else { w };
                    let start = bytes.len();
                    bytes.extend_from_slice(w);
                    spans.push(crate::resp::Span {
                        start,
                        end: bytes.len(),
                    });
                }
                let argv = Argv::new(&bytes, &spans);
                let mut ours = Vec::new();
                let fast = simple_keys(shape, &argv, true, &mut |p, f| {
                    ours.push(KeyRef { pos: p, flags: f });
                    true
                });
                if fast.is_none() {
                    continue;
                }
                let args: Vec<&[u8]> = argv.iter().collect();
                assert_eq!(ours, c.find_keys(&args), "{} with {argc} arguments", c.name);
            }
        }
    }

    #[test]
    fn merge_selectors() {
        assert_eq!(
            merge_selector_args(&rules(&["on", "(+get", "~x)", "off"])).unwrap(),
            rules(&["on", "(+get ~x)", "off"])
        );
        assert_eq!(merge_selector_args(&rules(&["on", "(+get"])), Err(1));
    }
}
