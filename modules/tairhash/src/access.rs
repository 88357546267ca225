//! How a command reaches the hash under its key: the command's clock and role (§5.1), opening with
//! WRONGTYPE, passive expiry (§2.2 step 4), the effects of removing expired fields (§5.3, shared with
//! active expiry) and keeping the registry in step after a write.

use tair_common::command::str_bytes;
use tair_common::ctx::flag;
use tair_common::propagate::{replicate_args, Arg};
use tair_common::{log, CmdResult, Ctx, Entry, RawStr, ReadKey, Vacant, WriteKey};

use crate::active::{self, Removal};
use crate::TairHash;

/// What the command may assume about time and roles.
#[derive(Clone, Copy, Debug)]
pub struct Env {
    /// The liveness clock: a field with expiry `T <= now` is expired. 0 for commands replayed from the
    /// primary or the AOF, which act on the fields as stored (§5.1).
    pub now: u64,
    /// The server's clock (ms), for turning relative times into absolute ones.
    pub clock: i64,
    /// The selected database (`usize::MAX` if it cannot be tracked).
    pub db: usize,
}

/// The database selected in `ctx` (`usize::MAX` if it cannot be tracked).
pub fn selected_db(ctx: &Ctx) -> usize {
    ctx.selected_db()
        .filter(|&db| db < active::MAX_DBS)
        .unwrap_or(usize::MAX)
}

impl Env {
    /// For a write: replayed writes (from the primary or the AOF) see every stored field as live.
    pub fn of(ctx: &Ctx) -> Env {
        let flags = ctx.flags();
        let clock = ctx.now_ms();
        let replayed = flags & (flag::LOADING | flag::REPLICATED) != 0;
        Env {
            now: if replayed { 0 } else { live_clock(clock) },
            clock,
            db: selected_db(ctx),
        }
    }

    /// For a read, which is never replayed (reads are not propagated): the context flags are read
    /// only if the command meets an expired field ([`Env::can_expire`]).
    pub fn for_read(ctx: &Ctx) -> Env {
        let clock = ctx.now_ms();
        Env {
            now: live_clock(clock),
            clock,
            db: selected_db(ctx),
        }
    }

    /// The command may remove expired fields: a client's command on a writable primary whose
    /// replication is not paused (propagating during `CLIENT PAUSE WRITE` / a failover is refused by
    /// the server).
    pub fn can_expire(&self, ctx: &Ctx) -> bool {
        let not_here = flag::LOADING | flag::REPLICATED | flag::REPLICA;
        ctx.flags() & not_here == 0 && !ctx.avoid_replica_traffic()
    }
}

/// The liveness clock of a client's command (never 0, which means "replayed").
fn live_clock(clock: i64) -> u64 {
    u64::try_from(clock).unwrap_or(0).max(1)
}

/// The earliest due time of the tairhash stored under `key` in the selected database, looked up
/// without side effects (no expiry of the key, no notification, no statistics); `None` if the key is
/// missing or holds another type.
pub fn peek_earliest(ctx: &Ctx, key: RawStr) -> Option<u64> {
    let k = ctx.open_read_quiet(key);
    let earliest = k
        .value::<TairHash>()
        .ok()
        .flatten()
        .and_then(TairHash::earliest_due);
    earliest
}

/// Does `h` hold any expired field at `now`?
fn has_expired(h: &TairHash, now: u64) -> bool {
    h.earliest_due().is_some_and(|d| d <= now)
}

/// Publishes `tairhash@<db>@<key>__:expired` with each field name (§5.3 item 3).
fn publish_expired(ctx: &Ctx, db: usize, key: &[u8], names: &[Vec<u8>]) {
    let mut ch = Vec::with_capacity(key.len() + 32);
    ch.extend_from_slice(b"tairhash@");
    ch.extend_from_slice(db.to_string().as_bytes());
    ch.push(b'@');
    ch.extend_from_slice(key);
    ch.extend_from_slice(b"__:expired");
    ctx.publish(&ch, names);
}

/// The effects of removing the expired fields `names` (already removed from the hash under `key`,
/// opened for writing) on a primary, in the order of §5.3: counters and registry, `EXHDEL`
/// propagation, the `expired` messages, the `exhexpired` event, and deleting an emptied key.
pub fn expired_removed(ctx: &Ctx, db: usize, key: &mut WriteKey, names: &[Vec<u8>], how: Removal) {
    if names.is_empty() {
        return;
    }
    let name = key.name();
    let key_bytes = str_bytes(name);
    let empty = match key.value_mut::<TairHash>() {
        Ok(Some(h)) => {
            restamp(db, key_bytes, h);
            h.is_empty()
        }
        _ => true,
    };
    active::with(|s| s.count(db, how, names.len()));
    let mut args = Vec::with_capacity(names.len() + 1);
    args.push(Arg::Str(name));
    args.extend(names.iter().map(|n| Arg::Bytes(n)));
    replicate_args(ctx, c"EXHDEL", &args);
    if crate::active::settings::expire_event_pubsub() {
        publish_expired(ctx, db, key_bytes, names);
    }
    ctx.notify_module(c"exhexpired", name);
    if empty {
        delete_key(ctx, key);
    }
}

/// Deletes a key whose hash became empty and fires `del`. The server refuses a delete only for a key
/// not opened for writing, which this type rules out; if it ever did, the empty hash must not stay
/// stored (no server could load it): that is logged loudly.
fn delete_key(ctx: &Ctx, key: &mut WriteKey) {
    match key.delete() {
        Ok(()) => ctx.notify_generic(c"del", key.name()),
        Err(_) => log::warning("tairhash: could not delete a key whose hash became empty"),
    }
}

/// Passive expiry (§5.1): on a writable primary, removes the named fields that are stored but expired,
/// then up to `extra` further expired fields (earliest first), with the effects of §5.3. The hash
/// must be fetched again afterwards: the key may have been deleted.
pub fn passive_expire(ctx: &Ctx, env: &Env, key: &mut WriteKey, names: &[&[u8]], extra: usize) {
    if !env.can_expire(ctx) {
        return;
    }
    let removed = match key.value_mut::<TairHash>() {
        // No field is due: nothing is expired (an expired field's due time is at most `now`).
        Ok(Some(h)) if !has_expired(h, env.now) => return,
        Ok(Some(h)) => {
            let mut r: Vec<Vec<u8>> = names
                .iter()
                .filter(|n| h.remove_expired(n, env.now))
                .map(|n| n.to_vec())
                .collect();
            if extra > 0 {
                r.extend(h.pop_due(env.now, extra));
            }
            r
        }
        _ => return,
    };
    expired_removed(ctx, env.db, key, &removed, Removal::Passive);
}

/// Which expired fields a read command meets.
#[derive(Clone, Copy)]
pub enum Meets<'a> {
    /// The named fields (removed before the command reads).
    Fields(&'a [&'a [u8]]),
    /// Every field (EXHKEYS, EXHVALS, EXHGETALL[WITHVER]): all expired ones are removed.
    All,
    /// Those an EXHSCAN step visits: the key is opened for writing if any field is expired, and the
    /// command removes what it visited itself.
    Scan,
}

/// A key as a read command holds it: read-only, or opened for writing because the command removes
/// expired fields (only a write-opened key may change the stored hash).
pub enum HashKey {
    Read(ReadKey),
    Write(WriteKey),
}

impl HashKey {
    pub fn value(&self) -> CmdResult<Option<&TairHash>> {
        match self {
            HashKey::Read(k) => k.value::<TairHash>(),
            HashKey::Write(k) => k.value::<TairHash>(),
        }
    }

    /// The key opened for writing (reopened if it was read-only).
    pub fn into_write(self, ctx: &Ctx) -> WriteKey {
        match self {
            HashKey::Write(k) => k,
            HashKey::Read(k) => {
                let name = k.name();
                drop(k);
                ctx.open_write(name)
            }
        }
    }
}

/// Opens `name` for a read command: read-only, unless the command will remove expired fields (a
/// writable primary and expired fields among those it meets), then for writing with passive expiry
/// applied. Fails with WRONGTYPE on another type. Also says whether the key existed before passive
/// expiry (EXHTTL answers -3, not -2, for a field whose removal deleted the key).
pub fn open_for_read(
    ctx: &Ctx,
    env: &Env,
    name: RawStr,
    meets: Meets,
) -> CmdResult<(HashKey, bool)> {
    let key = ctx.open_read(name);
    let mut existed = false;
    let removes = match key.value::<TairHash>()? {
        None => false,
        Some(h) => {
            existed = true;
            let meets_expired = match meets {
                Meets::Fields(ns) => ns.iter().any(|n| h.is_stored_expired(n, env.now)),
                Meets::All => has_expired(h, env.now),
                // EXHSCAN reopens the key for writing itself if its page meets expired fields.
                Meets::Scan => false,
            };
            meets_expired && env.can_expire(ctx)
        }
    };
    if !removes {
        return Ok((HashKey::Read(key), existed));
    }
    drop(key);
    let mut key = ctx.open_write(name);
    match meets {
        Meets::Fields(ns) => passive_expire(ctx, env, &mut key, ns, 0),
        Meets::All => {
            let removed = match key.value_mut::<TairHash>()? {
                Some(h) => h.pop_due(env.now, usize::MAX),
                None => Vec::new(),
            };
            expired_removed(ctx, env.db, &mut key, &removed, Removal::Passive);
        }
        Meets::Scan => {}
    }
    Ok((HashKey::Write(key), existed))
}

/// Opens `name` for a write command naming `fields`: WRONGTYPE on another type, then passive expiry
/// of the named fields and, on an existing key, of up to `extra` further fields.
pub fn open_for_write(
    ctx: &Ctx,
    env: &Env,
    name: RawStr,
    fields: &[&[u8]],
    extra: usize,
) -> CmdResult<WriteKey> {
    let mut key = ctx.open_write(name);
    let due = match key.value::<TairHash>()? {
        Some(h) => has_expired(h, env.now) && env.can_expire(ctx),
        None => false,
    };
    if due {
        passive_expire(ctx, env, &mut key, fields, extra);
    }
    Ok(key)
}

/// The extra fields a write removes (`passive_expire_keys_per_loop`).
pub fn write_extra() -> usize {
    crate::active::settings::passive_expire_keys_per_loop()
}

/// The hash a write works on: the stored one, or a fresh one stored only if the write gives it fields.
pub enum Slot<'k> {
    Stored(&'k mut TairHash),
    Fresh(TairHash, Vacant<'k>),
}

impl<'k> Slot<'k> {
    pub fn of(key: &'k mut WriteKey) -> CmdResult<Slot<'k>> {
        Ok(match key.entry::<TairHash>()? {
            Entry::Occupied(h) => Slot::Stored(h),
            Entry::Vacant(v) => Slot::Fresh(TairHash::new(), v),
        })
    }

    pub fn hash(&mut self) -> &mut TairHash {
        match self {
            Slot::Stored(h) => h,
            Slot::Fresh(h, _) => h,
        }
    }

    /// Stores a fresh hash that got fields (an empty one is never stored). Returns the stored hash
    /// (`None` if none is stored).
    pub fn commit(self) -> CmdResult<Option<&'k mut TairHash>> {
        match self {
            Slot::Stored(h) => Ok(Some(h)),
            Slot::Fresh(h, _) if h.is_empty() => Ok(None),
            Slot::Fresh(h, v) => v.insert(h).map(Some),
        }
    }
}

/// After a write to the hash stored under `name`: keeps a registry entry at or before the key's
/// earliest due time (the invariant active expiry relies on), see [`active::restamp`]. A write that
/// only postpones the earliest due time leaves the entry alone: the cycle re-reads the key when the
/// entry falls due, which costs less than updating the index on every such write.
pub fn reregister(env: &Env, name: RawStr, h: Option<&mut TairHash>) {
    if let Some(h) = h {
        restamp(env.db, str_bytes(name), h);
    }
}

/// [`active::restamp`] applied to `h`, stored under `key` in database `db`.
pub fn restamp(db: usize, key: &[u8], h: &mut TairHash) {
    if db >= active::MAX_DBS {
        return;
    }
    if let Some(stamp) = active::restamp(h.stamp(), h.earliest_due()) {
        h.set_stamp(stamp);
        if let Some(b) = stamp {
            active::with(|s| s.push(db, b, key));
        }
    }
}

/// Registers `h` (stored under `key` in database `db`) anew, whatever its stamp says: an event moved
/// or created the key, or the cycle took its entry. Pushes an entry at its earliest due time's
/// bucket, or clears the stamp when no field has an expiry.
pub fn register_anew(db: usize, key: &[u8], h: &mut TairHash) {
    if db >= active::MAX_DBS {
        return;
    }
    match h.earliest_due().map(crate::registry::bucket_of) {
        Some(b) => {
            h.set_stamp(Some(b));
            active::with(|s| s.push(db, b, key));
        }
        None => h.set_stamp(None),
    }
}

/// Deletes a key whose hash became empty by a command (EXHDEL, EXHDELWITHVER). (Its registry entry
/// is stale from now on; freeing the value uncounts its stamp.)
pub fn delete_emptied(ctx: &Ctx, _env: &Env, key: &mut WriteKey) {
    delete_key(ctx, key);
}
