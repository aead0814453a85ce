//! CLUSTER, READONLY, READWRITE and ASKING: the cluster family, as redis-server 7.0 answers
//! it with `cluster-enabled no`, the only mode ringkv runs in.
//!
//! Redis 7.0 without cluster mode answers every CLUSTER subcommand (HELP and KEYSLOT
//! included), READONLY, READWRITE and ASKING with `ERR This instance has cluster support
//! disabled`, after the usual checks: an unknown subcommand, a wrong argument count, ACL,
//! MULTI queueing, the script, loading and stale-replica rules all apply first, from the
//! rows' flags, in `call()`. Cluster-aware clients and tools send these commands to find out
//! whether they talk to a cluster; that error is how they learn they do not, where an
//! unknown-command error would read as a server that is not Redis.

use super::Ctx;
use crate::resp::Argv;

/// What Redis 7.0 answers to the cluster family when cluster mode is off.
pub const CLUSTER_DISABLED: &str = "ERR This instance has cluster support disabled";

/// Every CLUSTER subcommand, READONLY, READWRITE and ASKING.
pub fn cmd_cluster_disabled(ctx: &mut Ctx<'_>, _argv: &Argv<'_>) {
    ctx.err(CLUSTER_DISABLED)
}
