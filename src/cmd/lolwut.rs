//! LOLWUT and MODULE: the remaining commands of Redis's server group.
//!
//! LOLWUT answers, as redis-server 7.0 does, with the version line `Redis ver. 7.0.15` (the
//! version clients see in HELLO and INFO; client test suites look for `Redis ver.`). With
//! `VERSION 5` or `VERSION 6` Redis draws its art of those releases; ringkv draws its own
//! (a ring, made of `#` on a grid of the asked size) above the same line, taking the same
//! numeric arguments with the same checks and clamps.
//!
//! MODULE: ringkv loads no modules, so LIST is always empty and LOAD, LOADEX and UNLOAD fail
//! with the shape of Redis's failure replies, saying why.

use super::args::{arg_eq, arg_i64};
use super::server::REDIS_VERSION;
use super::Ctx;
use crate::resp::Argv;

/// Largest grid LOLWUT draws, as Redis clamps its canvas (columns and rows).
const LOLWUT_MAX_COLS: i64 = 1000;
const LOLWUT_MAX_ROWS: i64 = 1000;

pub fn cmd_lolwut(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    let mut first_arg = 1;
    let mut version: Option<i64> = None;
    if argv.len() >= 3 && arg_eq(argv.get(1), "version") {
        match arg_i64(argv.get(2)) {
            Some(v) => version = Some(v),
            None => return ctx.err("ERR value is not an integer or out of range"),
        }
        first_arg = 3;
    }
    let mut text = String::new();
    if matches!(version, Some(5 | 6)) {
        // Redis's versions 5 and 6 take up to three and two numbers: columns first.
        let mut nums = [0i64; 3];
        // Redis's default canvases: 66 columns for version 5, 80 x 20 for version 6.
        let defaults = if version == Some(5) {
            [66, 33, 0]
        } else {
            [80, 20, 0]
        };
        for (i, slot) in nums.iter_mut().enumerate() {
            *slot = defaults[i];
            if first_arg + i < argv.len() {
                match arg_i64(argv.get(first_arg + i)) {
                    Some(n) => *slot = n,
                    None => return ctx.err("ERR value is not an integer or out of range"),
                }
            }
        }
        let cols = nums[0].clamp(1, LOLWUT_MAX_COLS) as usize;
        let rows = nums[1].clamp(1, LOLWUT_MAX_ROWS) as usize;
        draw_ring(cols, rows, &mut text);
        text.push_str("\nA ring, drawn by ringkv. ");
    }
    text.push_str("Redis ver. ");
    text.push_str(REDIS_VERSION);
    text.push('\n');
    ctx.reply.verbatim(text.as_bytes());
}

/// A ring (an annulus) filling a `cols` x `rows` grid; a character cell is about twice as
/// tall as it is wide, so the vertical radius is halved.
fn draw_ring(cols: usize, rows: usize, out: &mut String) {
    let (cx, cy) = ((cols as f64 - 1.0) / 2.0, (rows as f64 - 1.0) / 2.0);
    let outer = (cols as f64 / 2.0).min(rows as f64);
    let inner = outer * 0.6;
    for y in 0..rows {
        for x in 0..cols {
            let dx = x as f64 - cx;
            let dy = (y as f64 - cy) * 2.0;
            let d = (dx * dx + dy * dy).sqrt();
            out.push(if d <= outer && d >= inner { '#' } else { ' ' });
        }
        out.push('\n');
    }
}

pub fn cmd_module_help(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.help(&[
        "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LIST",
        "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]",
        "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations and optional arguments.",
        "UNLOAD <name>",
        "    Unload a module.",
        "HELP",
        "    Prints this help.",
    ]);
}

/// MODULE LIST: no module is ever loaded.
pub fn cmd_module_list(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.reply.array(0);
}

/// `enable-module-command`: MODULE LOAD, LOADEX and UNLOAD are protected, as in Redis.
fn module_allowed(ctx: &mut Ctx<'_>) -> bool {
    let setting = ctx.srv.config.enable_module_command;
    if super::debug::protected_action_allowed(ctx, setting) {
        return true;
    }
    ctx.err("ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.");
    false
}

/// MODULE LOAD and LOADEX: Redis's "Error loading the extension" with the reason.
pub fn cmd_module_load(ctx: &mut Ctx<'_>, argv: &Argv<'_>) {
    if !module_allowed(ctx) {
        return;
    }
    log::warn!(
        "Module {} not loaded: ringkv does not support modules",
        String::from_utf8_lossy(argv.get(2))
    );
    ctx.err("ERR Error loading the extension. ringkv does not support modules.");
}

/// MODULE UNLOAD: no module by any name is loaded (Redis's text for an unknown name).
pub fn cmd_module_unload(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    if !module_allowed(ctx) {
        return;
    }
    ctx.err("ERR Error unloading module: no such module with that name");
}
