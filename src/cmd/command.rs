//! COMMAND and its subcommands, generated from the command table (`cmd::table`): COMMAND,
//! COUNT, INFO, DOCS, LIST [FILTERBY MODULE|ACLCAT|PATTERN], GETKEYS, GETKEYSANDFLAGS, HELP.
//!
//! Reply shapes are Redis 7.0.15's, in RESP2 and RESP3 alike: INFO entries are 10-element
//! arrays whose flags, categories, tips and key specs are sets; DOCS is a map of maps; an
//! unknown name is a null in INFO and is skipped by DOCS. Lists of all commands follow the
//! table's order (Redis follows its hash table's, which no client can rely on).

use super::docs::write_args;
use super::table::{
    acl, all_rows, doc_flags, flags, key_flags, lookup, BeginSearch, Command, FindKeys, COMMANDS,
};
use super::Ctx;
use crate::resp::reply::Reply;
use crate::resp::Argv;

/// The COMMAND container with no subcommand: every command's INFO entry.
pub fn cmd_command(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if argv.len() > 1 {
        // Reached only when dispatch did not find the subcommand (it answers that itself).
        ctx.syntax_error();
        return;
    }
    write_all_info(&mut ctx.reply);
}

pub fn cmd_command_count(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.reply.int(COMMANDS.len() as i64);
}

pub fn cmd_command_info(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if argv.len() == 2 {
        write_all_info(&mut ctx.reply);
        return;
    }
    ctx.reply.array(argv.len() - 2);
    for i in 2..argv.len() {
        match find_full(argv.get(i)) {
            Some(c) => write_info(&mut ctx.reply, c),
            None => ctx.reply.null(),
        }
    }
}

pub fn cmd_command_docs(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let list: Vec<&'static Command> = if argv.len() == 2 {
        COMMANDS.iter().collect()
    } else {
        (2..argv.len())
            .filter_map(|i| find_full(argv.get(i)))
            .collect()
    };
    ctx.reply.map(list.len());
    for c in list {
        ctx.reply.bulk(c.name.as_bytes());
        write_docs(&mut ctx.reply, c);
    }
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]: full names,
/// subcommands included.
pub fn cmd_command_list(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let names: Vec<&'static str> = match argv.len() {
        2 => all_rows().map(|c| c.name).collect(),
        5 if argv.get(2).eq_ignore_ascii_case(b"FILTERBY") => {
            let (kind, value) = (argv.get(3), argv.get(4));
            if kind.eq_ignore_ascii_case(b"MODULE") {
                // ringkv loads no modules.
                Vec::new()
            } else if kind.eq_ignore_ascii_case(b"ACLCAT") {
                // An unknown category matches nothing, as in Redis.
                let bit = acl::by_name(value).unwrap_or(0);
                all_rows()
                    .filter(|c| c.acl & bit != 0)
                    .map(|c| c.name)
                    .collect()
            } else if kind.eq_ignore_ascii_case(b"PATTERN") {
                all_rows()
                    .filter(|c| crate::util::glob::glob_match(value, c.name.as_bytes(), true))
                    .map(|c| c.name)
                    .collect()
            } else {
                return ctx.syntax_error();
            }
        }
        _ => return ctx.syntax_error(),
    };
    ctx.reply.array(names.len());
    for n in names {
        ctx.reply.bulk(n.as_bytes());
    }
}

pub fn cmd_command_getkeys(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    getkeys(ctx, argv, false);
}

pub fn cmd_command_getkeysandflags(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    getkeys(ctx, argv, true);
}

/// Redis's `getKeysSubcommandImpl`: the command line starts at `argv[2]`.
fn getkeys(ctx: &mut Ctx<'_>, argv: &Argv<'_>, with_flags: bool) {
    let line: Vec<&[u8]> = (2..argv.len()).map(|i| argv.get(i)).collect();
    let Some(c) = lookup_line(&line) else {
        return ctx.err("ERR Invalid command specified");
    };
    if !c.has_keys() {
        return ctx.err("ERR The command has no key arguments");
    }
    if !c.arity_ok(line.len()) {
        return ctx.err("ERR Invalid number of arguments specified for command");
    }
    let keys = c.find_keys(&line);
    if keys.is_empty() {
        // A command that may name no key at all (EVAL) answers an empty array.
        if c.flags & super::flags::NO_MANDATORY_KEYS != 0 {
            return ctx.reply.array(0);
        }
        return ctx.err("ERR Invalid arguments specified for command");
    }
    let r = &mut ctx.reply;
    r.array(keys.len());
    for k in keys {
        if with_flags {
            r.array(2);
            r.bulk(line[k.pos]);
            write_key_flags(r, k.flags);
        } else {
            r.bulk(line[k.pos]);
        }
    }
}

pub fn cmd_command_help(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    const LINES: &[&str] = &[
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP",
        "    Prints this help.",
    ];
    ctx.help(LINES);
}

/// A name as COMMAND INFO and DOCS take it: `get` or `client|kill`, any case.
fn find_full(name: &[u8]) -> Option<&'static Command> {
    let (top, sub) = match memchr::memchr(b'|', name) {
        Some(i) => (&name[..i], Some(&name[i + 1..])),
        None => (name, None),
    };
    let c = lookup(COMMANDS, top)?;
    match sub {
        None => Some(c),
        Some(sub) => lookup(c.subcommands, sub),
    }
}

/// Redis's `lookupCommand` on a command line: a container with an argument after it means
/// its subcommand (unknown: None).
fn lookup_line(line: &[&[u8]]) -> Option<&'static Command> {
    let c = lookup(COMMANDS, line.first()?)?;
    match line.get(1) {
        Some(sub) if !c.subcommands.is_empty() => lookup(c.subcommands, sub),
        _ => Some(c),
    }
}

fn write_all_info(r: &mut Reply<'_>) {
    r.array(COMMANDS.len());
    for c in COMMANDS {
        write_info(r, c);
    }
}

fn write_key_flags(r: &mut Reply<'_>, bits: u32) {
    r.set(bits.count_ones() as usize);
    for (bit, name) in key_flags::NAMES {
        if bits & bit != 0 {
            r.simple(name);
        }
    }
}

/// One COMMAND INFO entry: name, arity, flags, first/last/step, ACL categories, tips, key
/// specs, subcommands.
fn write_info(r: &mut Reply<'_>, c: &Command) {
    r.array(10);
    r.bulk(c.name.as_bytes());
    r.int(i64::from(c.arity));
    let names: Vec<&str> = flags::NAMES
        .iter()
        .filter(|(f, _)| c.flags & f != 0)
        .map(|(_, n)| *n)
        .chain(c.movablekeys.then_some("movablekeys"))
        .collect();
    r.set(names.len());
    for n in names {
        r.simple(n);
    }
    r.int(i64::from(c.first_key));
    r.int(i64::from(c.last_key));
    r.int(i64::from(c.step));
    r.set(c.acl.count_ones() as usize);
    for (bit, name) in acl::NAMES {
        if c.acl & bit != 0 {
            r.simple(&format!("@{name}"));
        }
    }
    r.set(c.tips.len());
    for t in c.tips {
        r.bulk(t.as_bytes());
    }
    r.set(c.key_specs.len());
    for s in c.key_specs {
        r.map(3 + usize::from(s.notes.is_some()));
        if let Some(n) = s.notes {
            r.bulk(b"notes");
            r.bulk(n.as_bytes());
        }
        r.bulk(b"flags");
        write_key_flags(r, s.flags);
        r.bulk(b"begin_search");
        r.map(2);
        r.bulk(b"type");
        match s.begin_search {
            BeginSearch::Index(pos) => {
                r.bulk(b"index");
                r.bulk(b"spec");
                r.map(1);
                write_field(r, "index", pos);
            }
            BeginSearch::Keyword { keyword, startfrom } => {
                r.bulk(b"keyword");
                r.bulk(b"spec");
                r.map(2);
                r.bulk(b"keyword");
                r.bulk(keyword.as_bytes());
                write_field(r, "startfrom", startfrom);
            }
            BeginSearch::Unknown => {
                r.bulk(b"unknown");
                r.bulk(b"spec");
                r.map(0);
            }
        }
        r.bulk(b"find_keys");
        r.map(2);
        r.bulk(b"type");
        let fields = match s.find_keys {
            FindKeys::Unknown => {
                r.bulk(b"unknown");
                r.bulk(b"spec");
                r.map(0);
                continue;
            }
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => {
                r.bulk(b"range");
                [("lastkey", lastkey), ("keystep", keystep), ("limit", limit)]
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                r.bulk(b"keynum");
                [
                    ("keynumidx", keynumidx),
                    ("firstkey", firstkey),
                    ("keystep", keystep),
                ]
            }
        };
        r.bulk(b"spec");
        r.map(3);
        for (name, v) in fields {
            write_field(r, name, v);
        }
    }
    // Redis sends "no subcommands" as an empty set, and subcommands as an array.
    if c.subcommands.is_empty() {
        r.set(0);
    } else {
        r.array(c.subcommands.len());
        for s in c.subcommands {
            write_info(r, s);
        }
    }
}

fn write_field(r: &mut Reply<'_>, name: &str, v: i32) {
    r.bulk(name.as_bytes());
    r.int(i64::from(v));
}

/// One COMMAND DOCS map: summary, since, group, complexity, doc_flags, deprecated_since,
/// replaced_by, history, arguments, subcommands (the optional ones only when present).
fn write_docs(r: &mut Reply<'_>, c: &Command) {
    // MONITOR is the one command Redis documents without a complexity.
    let fields = 3
        + usize::from(!c.complexity.is_empty())
        + usize::from(c.doc_flags != 0)
        + usize::from(c.deprecated_since.is_some())
        + usize::from(c.replaced_by.is_some())
        + usize::from(!c.history.is_empty())
        + usize::from(!c.args.is_empty())
        + usize::from(!c.subcommands.is_empty());
    r.map(fields);
    for (name, v) in [
        ("summary", c.summary),
        ("since", c.since),
        ("group", c.group.name()),
        ("complexity", c.complexity),
    ] {
        if v.is_empty() && name == "complexity" {
            continue;
        }
        r.bulk(name.as_bytes());
        r.bulk(v.as_bytes());
    }
    if c.doc_flags != 0 {
        r.bulk(b"doc_flags");
        r.set(c.doc_flags.count_ones() as usize);
        for (bit, name) in doc_flags::NAMES {
            if c.doc_flags & bit != 0 {
                r.simple(name);
            }
        }
    }
    for (name, v) in [
        ("deprecated_since", c.deprecated_since),
        ("replaced_by", c.replaced_by),
    ] {
        if let Some(v) = v {
            r.bulk(name.as_bytes());
            r.bulk(v.as_bytes());
        }
    }
    if !c.history.is_empty() {
        // A set of (version, text) pairs, as Redis 7.0 sends it.
        r.bulk(b"history");
        r.set(c.history.len());
        for (version, text) in c.history {
            r.array(2);
            r.bulk(version.as_bytes());
            r.bulk(text.as_bytes());
        }
    }
    if !c.args.is_empty() {
        r.bulk(b"arguments");
        write_args(r, c.args);
    }
    if !c.subcommands.is_empty() {
        r.bulk(b"subcommands");
        r.map(c.subcommands.len());
        for s in c.subcommands {
            r.bulk(s.name.as_bytes());
            write_docs(r, s);
        }
    }
}
