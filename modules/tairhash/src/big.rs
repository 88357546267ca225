//! The big encoding of a tairhash value: the chained field table (`table`) and the key's expiry heap
//! (`expire::FieldExpiry`), kept in step. [`crate::TairHash`] holds one once a value passed the
//! compact thresholds.

use crate::expire::FieldExpiry;
use crate::field::{Expiry, FieldBox};
use crate::hash::{check_version, next_version, resolve_expiry};
use crate::options::{Condition, HashError, SetOptions, SetOutcome, Written};
use crate::table::FieldTable;

/// The big encoding: the chained field table and the key's expiry heap.
pub(crate) struct Big {
    pub(crate) table: FieldTable,
    pub(crate) expiry: FieldExpiry,
    /// The registry bucket the value is registered under (see `registry`).
    pub(crate) stamp: Option<u64>,
}

impl Big {
    pub(crate) fn with_capacity(fields: usize, expiring: usize) -> Self {
        Big {
            table: FieldTable::with_capacity(fields),
            expiry: FieldExpiry::with_capacity(expiring),
            stamp: None,
        }
    }

    /// Writes `name` (creating it, or replacing a stored one, live or not): the value (`None` keeps
    /// it), the version and the expiry; keeps the expiry heap in step with the block.
    pub(crate) fn write(
        &mut self,
        name: &[u8],
        value: Option<&[u8]>,
        version: u64,
        expiry: Option<Expiry>,
    ) {
        if let Some(f) = self.table.get_mut(name) {
            Self::rewrite(&mut self.expiry, f, value, version, expiry);
        } else {
            self.insert_new(FieldBox::new(
                name,
                value.unwrap_or_default(),
                version,
                expiry,
            ));
        }
    }

    /// Rewrites a stored field in place (see [`write`](Self::write)), keeping `heap` in step.
    fn rewrite(
        heap: &mut FieldExpiry,
        f: &mut FieldBox,
        value: Option<&[u8]>,
        version: u64,
        expiry: Option<Expiry>,
    ) {
        let old_pos = f.heap_pos();
        if let (Some(pos), None) = (old_pos, expiry) {
            heap.remove(pos, f.handle());
        }
        if let Some(v) = value {
            f.set_value(v);
        }
        f.set_version(version);
        f.set_expiry(expiry);
        match (old_pos, expiry) {
            (Some(pos), Some(_)) => heap.replace(pos, f.handle()),
            (None, Some(_)) => heap.push(f.handle()),
            _ => {}
        }
    }

    pub(crate) fn insert_new(&mut self, f: FieldBox) {
        let r = f.handle();
        let has_expiry = f.expiry().is_some();
        if self.table.insert(f) && has_expiry {
            self.expiry.push(r);
        }
    }

    /// Unlinks and frees a stored field.
    pub(crate) fn remove_stored(&mut self, name: &[u8]) -> bool {
        let Some(f) = self.table.remove(name) else {
            return false;
        };
        if let Some(pos) = f.heap_pos() {
            self.expiry.remove(pos, f.handle());
        }
        true
    }

    /// EXHSET on the big encoding: one lookup; the stored field (live or not) is rewritten in place,
    /// a missing one inserted.
    pub(crate) fn set(
        &mut self,
        name: &[u8],
        value: &[u8],
        opts: SetOptions,
        now: u64,
    ) -> Result<SetOutcome, HashError> {
        let stored = self.table.get_mut(name);
        let live = stored
            .as_deref()
            .filter(|f| f.expiry().is_none_or(|e| e.at > now));
        let created = live.is_none();
        match opts.condition {
            Condition::IfAbsent if !created => return Ok(SetOutcome::Skipped),
            Condition::IfPresent if created => return Ok(SetOutcome::Skipped),
            _ => {}
        }
        let current = live.map(FieldBox::version);
        let current_expiry = live.and_then(FieldBox::expiry);
        check_version(current, opts.version)?;
        let version = next_version(current, opts.version)?;
        let expiry = resolve_expiry(opts.expiry, current_expiry, now);
        match stored {
            Some(f) => Self::rewrite(&mut self.expiry, f, Some(value), version, expiry),
            None => self.insert_new(FieldBox::new(name, value, version, expiry)),
        }
        Ok(SetOutcome::Written(Written {
            created,
            version,
            expiry: expiry.map(|e| e.at),
        }))
    }
}
