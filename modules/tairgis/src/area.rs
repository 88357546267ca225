//! [`GisArea`], the value of a key (spec §3): members by name (bytewise order), members by insertion
//! number, and an R-tree over their bounding rectangles. Queries (spec §5, §6) take candidates from the
//! tree and keep those the exact predicate accepts, in insertion order. Pure Rust.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

use geo::Geometry;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{Envelope, RTree, RTreeObject, AABB};
use tair_common::alloc::size_class;

use crate::geom::{self, Shape};

/// An R-tree entry: a member's bounding rectangle and its slot.
pub type Entry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// One named geometry.
#[derive(Debug, PartialEq)]
pub struct Member {
    pub name: Box<[u8]>,
    /// Insertion number (order of unsorted results).
    pub seq: u64,
    pub shape: Shape,
}

/// Live members of every area in this process (INFO `tairgis_geometries`): counted when a member is
/// made (insert, load, copy) and when it is dropped (removed, replaced, its key freed).
pub static GEOMETRIES: AtomicU64 = AtomicU64::new(0);

impl Member {
    fn new(name: Box<[u8]>, seq: u64, shape: Shape) -> Member {
        GEOMETRIES.fetch_add(1, Relaxed);
        Member { name, seq, shape }
    }
}

impl Clone for Member {
    fn clone(&self) -> Member {
        Member::new(self.name.clone(), self.seq, self.shape.clone())
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        GEOMETRIES.fetch_sub(1, Relaxed);
    }
}

/// The value of a key. Members live in `slots` (the R-tree and both maps refer to a slot, so a
/// candidate from the tree is one array access away); `order` keeps insertion order.
#[derive(Debug, Clone, Default)]
pub struct GisArea {
    names: BTreeMap<Box<[u8]>, u32>,
    order: BTreeMap<u64, u32>,
    slots: Vec<Option<Member>>,
    free: Vec<u32>,
    index: RTree<Entry>,
    next_seq: u64,
    /// Positions over all members (memory estimate).
    points: usize,
}

impl PartialEq for GisArea {
    /// Same members (names and shapes) in the same insertion order (sequence numbers may differ).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|((_, a), (_, b))| a.name == b.name && a.shape == b.shape)
    }
}

fn entry(rect: &geo::Rect<f64>, slot: u32) -> Entry {
    let (lo, hi) = (rect.min(), rect.max());
    GeomWithData::new(Rectangle::from_corners([lo.x, lo.y], [hi.x, hi.y]), slot)
}

fn aabb(rect: &geo::Rect<f64>) -> AABB<[f64; 2]> {
    let (lo, hi) = (rect.min(), rect.max());
    AABB::from_corners([lo.x, lo.y], [hi.x, hi.y])
}

/// What a query asks of each member M, against the query geometry G.
pub enum Query<'a> {
    /// M covers G.
    Contains(&'a Geometry<f64>, &'a geo::Rect<f64>),
    /// G covers M.
    Within(&'a Geometry<f64>, &'a geo::Rect<f64>),
    /// M and G share a point.
    Intersects(&'a Geometry<f64>, &'a geo::Rect<f64>),
    /// Points within `meters` of (lon, lat); other members meeting the 64-gon (spec §6).
    Radius { lon: f64, lat: f64, meters: f64 },
}

impl GisArea {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn points(&self) -> usize {
        self.points
    }

    /// Bytes the allocator holds for the area (MEMORY USAGE): the slot array at its capacity, each
    /// member's name (twice: member and name map), WKT and positions in jemalloc size classes, and the
    /// per-entry cost of the two maps and the R-tree (nodes about two-thirds full), calibrated on areas of
    /// 3,000-20,000 points and polygons (0.92x-1.01x of the used_memory they added).
    pub fn mem_usage(&self) -> usize {
        /// BTreeMap<Box<[u8]>, u32>: 20 bytes per entry in nodes of 11, plus node headers and slack.
        const NAMES_ENTRY: usize = 48;
        /// BTreeMap<u64, u32>.
        const ORDER_ENTRY: usize = 30;
        /// R-tree leaf entry (40 bytes) in nodes of up to 6, plus the inner levels.
        const TREE_ENTRY: usize = 120;
        let members: usize = self
            .slots
            .iter()
            .flatten()
            .map(|m| {
                size_class(m.name.len())
                    .saturating_mul(2)
                    .saturating_add(size_class(m.shape.wkt.len()))
                    .saturating_add(size_class(m.shape.points.saturating_mul(16)))
                    .saturating_add(NAMES_ENTRY + ORDER_ENTRY + TREE_ENTRY)
            })
            .fold(0usize, usize::saturating_add);
        std::mem::size_of::<Self>()
            .saturating_add(
                self.slots
                    .capacity()
                    .saturating_mul(std::mem::size_of::<Option<Member>>()),
            )
            .saturating_add(self.free.capacity().saturating_mul(4))
            .saturating_add(members)
    }

    fn slot(&self, slot: u32) -> Option<&Member> {
        self.slots
            .get(usize::try_from(slot).ok()?)
            .and_then(Option::as_ref)
    }

    pub fn get(&self, name: &[u8]) -> Option<&Member> {
        self.names.get(name).and_then(|s| self.slot(*s))
    }

    pub fn by_seq(&self, seq: u64) -> Option<&Member> {
        self.order.get(&seq).and_then(|s| self.slot(*s))
    }

    /// Members in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &Member)> {
        self.order
            .iter()
            .filter_map(|(q, s)| self.slot(*s).map(|m| (*q, m)))
    }

    /// Members in bytewise name order.
    pub fn iter_by_name(&self) -> impl Iterator<Item = &Member> {
        self.names.values().filter_map(|s| self.slot(*s))
    }

    /// Puts a member in a free slot (or a new one); `None` past 2^32 slots.
    fn place(&mut self, m: Member) -> Option<u32> {
        if let Some(s) = self.free.pop() {
            if let Some(cell) = self.slots.get_mut(usize::try_from(s).ok()?) {
                *cell = Some(m);
                return Some(s);
            }
            return None;
        }
        let s = u32::try_from(self.slots.len()).ok()?;
        self.slots.push(Some(m));
        Some(s)
    }

    /// Adds or replaces `name` (a replaced member moves to the end of the insertion order). False
    /// (nothing changed but a removed old member) only past 2^32 members.
    pub fn insert(&mut self, name: &[u8], shape: Shape) -> bool {
        self.remove(name);
        let seq = self.next_seq;
        let rect = shape.rect;
        let points = shape.points;
        let Some(slot) = self.place(Member::new(name.into(), seq, shape)) else {
            return false;
        };
        self.next_seq = self.next_seq.saturating_add(1);
        self.index.insert(entry(&rect, slot));
        self.points = self.points.saturating_add(points);
        self.names.insert(name.into(), slot);
        self.order.insert(seq, slot);
        true
    }

    /// Removes `name`; true if it was there.
    pub fn remove(&mut self, name: &[u8]) -> bool {
        let Some(slot) = self.names.remove(name) else {
            return false;
        };
        let taken = usize::try_from(slot)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(Option::take);
        if let Some(m) = taken {
            self.order.remove(&m.seq);
            self.index.remove(&entry(&m.shape.rect, slot));
            self.points = self.points.saturating_sub(m.shape.points);
            self.free.push(slot);
        }
        true
    }

    /// Builds an area from members in insertion order (a later repeat of a name replaces the earlier),
    /// bulk-loading the tree.
    pub fn from_members(members: Vec<(Box<[u8]>, Shape)>) -> Self {
        let mut a = GisArea::new();
        for (name, shape) in members {
            if let Some(old) = a.names.get(&name).copied() {
                let taken = usize::try_from(old)
                    .ok()
                    .and_then(|i| a.slots.get_mut(i))
                    .and_then(Option::take);
                if let Some(m) = taken {
                    a.order.remove(&m.seq);
                    a.points = a.points.saturating_sub(m.shape.points);
                    a.free.push(old);
                }
            }
            let seq = a.next_seq;
            let points = shape.points;
            let Some(slot) = a.place(Member::new(name.clone(), seq, shape)) else {
                break;
            };
            a.next_seq = a.next_seq.saturating_add(1);
            a.points = a.points.saturating_add(points);
            a.names.insert(name, slot);
            a.order.insert(seq, slot);
        }
        let entries = a
            .order
            .values()
            .filter_map(|s| a.slot(*s).map(|m| entry(&m.shape.rect, *s)))
            .collect();
        a.index = RTree::bulk_load(entries);
        a
    }

    /// The members matching `q`, in insertion order.
    pub fn query_members(&self, q: &Query) -> Vec<&Member> {
        let mut out: Vec<&Member> = match q {
            Query::Contains(g, r) => {
                let env = aabb(r);
                self.index
                    .locate_in_envelope_intersecting(&env)
                    .filter(|e| e.geom().envelope().contains_envelope(&env))
                    .filter_map(|e| self.slot(e.data))
                    .filter(|m| geom::covers(&m.shape.geom, g))
                    .collect()
            }
            Query::Within(g, r) => self
                .index
                .locate_in_envelope(&aabb(r))
                .filter_map(|e| self.slot(e.data))
                .filter(|m| geom::covers(g, &m.shape.geom))
                .collect(),
            Query::Intersects(g, r) => self
                .index
                .locate_in_envelope_intersecting(&aabb(r))
                .filter_map(|e| self.slot(e.data))
                .filter(|m| geom::intersects(&m.shape.geom, g))
                .collect(),
            Query::Radius { lon, lat, meters } => self.radius(*lon, *lat, *meters),
        };
        out.sort_unstable_by_key(|m| m.seq);
        out
    }

    /// Insertion numbers of the members matching `q`, ascending.
    pub fn query(&self, q: &Query) -> Vec<u64> {
        self.query_members(q).iter().map(|m| m.seq).collect()
    }

    fn radius(&self, lon: f64, lat: f64, meters: f64) -> Vec<&Member> {
        let all = meters >= std::f64::consts::PI * geom::EARTH_RADIUS;
        let (lo, hi) = geom::radius_envelope(lon, lat, meters);
        let env = AABB::from_corners(lo, hi);
        let area: Option<Geometry<f64>> = if all {
            None
        } else if meters == 0.0 {
            Some(Geometry::Point(geo::Point::new(lon, lat)))
        } else {
            Some(Geometry::Polygon(geom::search_polygon(lon, lat, meters)))
        };
        let hit = |m: &&Member| -> bool {
            if let Some((x, y)) = m.shape.as_point() {
                return geom::distance(lon, lat, x, y) <= meters;
            }
            match &area {
                None => true,
                Some(a) => geom::intersects(&m.shape.geom, a),
            }
        };
        self.index
            .locate_in_envelope_intersecting(&env)
            .filter_map(|e| self.slot(e.data))
            .filter(hit)
            .collect()
    }

    /// The members of `points` covered by some single member of `self`, in `points`' insertion order.
    pub fn within_any_members<'p>(&self, points: &'p GisArea) -> Vec<&'p Member> {
        points
            .iter()
            .filter(|(_, p)| {
                let env = aabb(&p.shape.rect);
                self.index
                    .locate_in_envelope_intersecting(&env)
                    .filter(|e| e.geom().envelope().contains_envelope(&env))
                    .filter_map(|e| self.slot(e.data))
                    .any(|z| geom::covers(&z.shape.geom, &p.shape.geom))
            })
            .map(|(_, m)| m)
            .collect()
    }

    /// Insertion numbers (in `points`) of [`GisArea::within_any_members`].
    pub fn within_any(&self, points: &GisArea) -> Vec<u64> {
        self.within_any_members(points)
            .iter()
            .map(|m| m.seq)
            .collect()
    }

    /// Checks the internal invariants (tests).
    pub fn check(&self) -> Result<(), String> {
        let live = self.slots.iter().filter(|s| s.is_some()).count();
        if self.names.len() != self.order.len()
            || self.index.size() != self.order.len()
            || live != self.order.len()
            || live + self.free.len() != self.slots.len()
        {
            return Err("sizes differ".into());
        }
        for (n, s) in &self.names {
            let m = self.slot(*s).ok_or("dangling name")?;
            if &m.name != n {
                return Err("name mismatch".into());
            }
            if m.seq >= self.next_seq || self.order.get(&m.seq) != Some(s) {
                return Err("seq mismatch".into());
            }
        }
        for e in self.index.iter() {
            let m = self.slot(e.data).ok_or("dangling tree entry")?;
            if *e != entry(&m.shape.rect, e.data) {
                return Err("tree rectangle mismatch".into());
            }
        }
        let pts: usize = self.iter().map(|(_, m)| m.shape.points).sum();
        if pts != self.points {
            return Err("point count".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(w: &str) -> Shape {
        geom::parse(w.as_bytes()).unwrap()
    }

    fn names(a: &GisArea, seqs: &[u64]) -> Vec<String> {
        seqs.iter()
            .map(|q| String::from_utf8(a.by_seq(*q).unwrap().name.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn insert_replace_remove_order() {
        let mut a = GisArea::new();
        a.insert(b"tengxun", s("POLYGON((10 10,10 50,50 50,50 10))"));
        a.insert(b"alizhongxin", s("POLYGON((10 10,10 20,20 20))"));
        a.check().unwrap();
        let p = s("POINT(15 15)");
        let r = a.query(&Query::Contains(&p.geom, &p.rect));
        assert_eq!(names(&a, &r), ["tengxun", "alizhongxin"]);
        a.insert(b"tengxun", s("POLYGON((10 10,10 50,50 50,50 10))"));
        a.check().unwrap();
        let r = a.query(&Query::Contains(&p.geom, &p.rect));
        assert_eq!(names(&a, &r), ["alizhongxin", "tengxun"]);
        let by_name: Vec<_> = a.iter_by_name().map(|m| m.name.to_vec()).collect();
        assert_eq!(by_name, [b"alizhongxin".to_vec(), b"tengxun".to_vec()]);
        assert!(a.remove(b"tengxun"));
        assert!(!a.remove(b"tengxun"));
        a.check().unwrap();
        assert_eq!(a.len(), 1);
    }

    #[test]
    fn radius_and_within_any() {
        let mut a = GisArea::new();
        a.insert(b"Palermo", s("POINT(13.361389 38.115556)"));
        a.insert(b"Catania", s("POINT(15.087269 37.502669)"));
        let r = a.query(&Query::Radius {
            lon: 15.0,
            lat: 37.0,
            meters: 200_000.0,
        });
        assert_eq!(names(&a, &r), ["Palermo", "Catania"]);
        let r = a.query(&Query::Radius {
            lon: 15.0,
            lat: 37.0,
            meters: 100_000.0,
        });
        assert_eq!(names(&a, &r), ["Catania"]);
        let r = a.query(&Query::Radius {
            lon: 0.0,
            lat: 0.0,
            meters: 50_000_000.0,
        });
        assert_eq!(r.len(), 2);
        let mut z = GisArea::new();
        z.insert(b"zone", s("POLYGON((13 37,16 37,16 39,13 39,13 37))"));
        assert_eq!(names(&a, &z.within_any(&a)), ["Palermo", "Catania"]);
        // a polygon near the centre is found by the 64-gon
        let mut p = GisArea::new();
        p.insert(b"sq", s("POLYGON((15.5 37,15.6 37,15.6 37.1,15.5 37.1))"));
        let r = p.query(&Query::Radius {
            lon: 15.0,
            lat: 37.0,
            meters: 50_000.0,
        });
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn bulk_load_equals_inserts() {
        let mut a = GisArea::new();
        let mut v = Vec::new();
        for i in 0..100 {
            let w = format!("POINT({} {})", i, i % 50);
            a.insert(format!("m{}", i % 70).as_bytes(), s(&w));
            v.push((
                format!("m{}", i % 70).into_bytes().into_boxed_slice(),
                s(&w),
            ));
        }
        let b = GisArea::from_members(v);
        b.check().unwrap();
        assert_eq!(a, b);
    }
}
