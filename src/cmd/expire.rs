//! PLACEHOLDER: being written (family expire).
use super::Ctx;
use crate::resp::Argv;

pub fn cmd_expire(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_expireat(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_expiretime(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_persist(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_pexpire(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_pexpireat(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_pexpiretime(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_pttl(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_ttl(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}
