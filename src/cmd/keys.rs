//! PLACEHOLDER: being written (family keys).
use super::Ctx;
use crate::resp::Argv;

pub fn cmd_copy(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_del(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_exists(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_keys(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_move(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_randomkey(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_rename(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_renamenx(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_scan(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_touch(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_type(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_unlink(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub static OBJECT_SUBCOMMANDS: &[super::Command] = &[];
