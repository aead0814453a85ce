//! PLACEHOLDER: being written (family strings).
use super::Ctx;
use crate::resp::Argv;

pub fn cmd_append(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_decr(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_decrby(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_get(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_getdel(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_getex(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_getrange(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_getset(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_incr(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_incrby(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_incrbyfloat(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_lcs(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_mget(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_mset(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_msetnx(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_psetex(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_set(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_setex(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_setnx(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_setrange(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}

pub fn cmd_strlen(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err("ERR placeholder");
}
