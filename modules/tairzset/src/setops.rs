//! EXZUNION / EXZINTER / EXZDIFF (+STORE) and EXZINTERCARD (§4.17) over `Option<&TairZset>` inputs, where
//! `None` is a missing key. Results are built in a fresh table, then sorted once (O(M log M)).

use crate::error::ZsetError;
use crate::score;
use crate::zset::{TairZset, ZsetBuilder};

/// AGGREGATE SUM | MIN | MAX.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Aggregate {
    /// Per dimension; a NaN dimension (inf + -inf) becomes 0.
    #[default]
    Sum,
    /// The whole tuple that is smaller in the §2.3 order.
    Min,
    /// The whole tuple that is larger in the §2.3 order.
    Max,
}

/// The N shared by every existing input (`None` if all are missing); different N → `InvalidScore`.
pub fn common_dims(inputs: &[Option<&TairZset>]) -> Result<Option<usize>, ZsetError> {
    let mut dims = None;
    for set in inputs.iter().flatten() {
        match dims {
            None => dims = Some(set.dims()),
            Some(d) if d != set.dims() => return Err(ZsetError::InvalidScore),
            Some(_) => {}
        }
    }
    Ok(dims)
}

/// `score · weight` per dimension into `out`; a NaN product (inf · 0) becomes 0.
fn weigh(score: &[f64], weight: f64, out: &mut [f64]) {
    for (o, s) in out.iter_mut().zip(score) {
        let v = s * weight;
        *o = if v.is_nan() { 0.0 } else { v };
    }
}

fn aggregate(acc: &mut [f64], v: &[f64], how: Aggregate) {
    match how {
        Aggregate::Sum => {
            for (a, b) in acc.iter_mut().zip(v) {
                let s = *a + b;
                *a = if s.is_nan() { 0.0 } else { s };
            }
        }
        Aggregate::Min => {
            if score::compare(v, acc) == std::cmp::Ordering::Less {
                copy(acc, v);
            }
        }
        Aggregate::Max => {
            if score::compare(v, acc) == std::cmp::Ordering::Greater {
                copy(acc, v);
            }
        }
    }
}

fn copy(dst: &mut [f64], src: &[f64]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

fn weight_of(weights: &[f64], i: usize) -> f64 {
    weights.get(i).copied().unwrap_or(1.0)
}

fn finish(builder: ZsetBuilder) -> Result<Option<TairZset>, ZsetError> {
    if builder.is_empty() {
        return Ok(None);
    }
    builder.finish().map(Some)
}

/// EXZUNION[STORE]: `weights` has one value per input (missing values count as 1). `None` = empty result.
pub fn union(
    inputs: &[Option<&TairZset>],
    weights: &[f64],
    how: Aggregate,
) -> Result<Option<TairZset>, ZsetError> {
    let Some(dims) = common_dims(inputs)? else {
        return Ok(None);
    };
    let largest = inputs.iter().flatten().map(|s| s.len()).max().unwrap_or(0);
    let mut out = ZsetBuilder::new(dims, largest)?;
    let mut scratch = vec![0.0; dims];
    for (i, set) in inputs.iter().enumerate() {
        let Some(set) = set else { continue };
        let w = weight_of(weights, i);
        for (member, s) in set.iter() {
            weigh(&s, w, &mut scratch);
            out.merge(member, &scratch, |acc, v| aggregate(acc, v, how))?;
        }
    }
    finish(out)
}

/// Index of the smallest input, if every input exists.
fn smallest(inputs: &[Option<&TairZset>]) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (i, set) in inputs.iter().enumerate() {
        let len = set.as_ref()?.len();
        if best.is_none_or(|(_, l)| len < l) {
            best = Some((i, len));
        }
    }
    best.map(|(i, _)| i)
}

/// EXZINTER[STORE]: members present in every input, aggregated over the inputs in the order given.
pub fn inter(
    inputs: &[Option<&TairZset>],
    weights: &[f64],
    how: Aggregate,
) -> Result<Option<TairZset>, ZsetError> {
    let Some(dims) = common_dims(inputs)? else {
        return Ok(None);
    };
    let Some(pivot) = smallest(inputs).and_then(|i| inputs.get(i).copied().flatten()) else {
        return Ok(None);
    };
    let mut out = ZsetBuilder::new(dims, pivot.len())?;
    let mut acc = vec![0.0; dims];
    let mut scratch = vec![0.0; dims];
    'members: for (member, _) in pivot.iter() {
        for (i, set) in inputs.iter().enumerate() {
            let Some(s) = (*set).and_then(|set| set.score(member)) else {
                continue 'members;
            };
            if i == 0 {
                weigh(&s, weight_of(weights, i), &mut acc);
            } else {
                weigh(&s, weight_of(weights, i), &mut scratch);
                aggregate(&mut acc, &scratch, how);
            }
        }
        out.push(member, &acc)?;
    }
    finish(out)
}

/// EXZDIFF[STORE]: members of the first input absent from all others, with the first input's score.
pub fn diff(inputs: &[Option<&TairZset>]) -> Result<Option<TairZset>, ZsetError> {
    let Some(dims) = common_dims(inputs)? else {
        return Ok(None);
    };
    let Some(Some(first)) = inputs.first() else {
        return Ok(None);
    };
    let others = inputs.get(1..).unwrap_or(&[]);
    let mut out = ZsetBuilder::new(dims, first.len())?;
    for (member, s) in first.iter() {
        if others.iter().flatten().all(|o| o.score(member).is_none()) {
            out.push(member, &s)?;
        }
    }
    finish(out)
}

/// EXZINTERCARD: size of the intersection, counting stops at `limit` (0 = unlimited).
pub fn inter_card(inputs: &[Option<&TairZset>], limit: usize) -> Result<usize, ZsetError> {
    common_dims(inputs)?;
    let Some(pivot) = smallest(inputs).and_then(|i| inputs.get(i).copied().flatten()) else {
        return Ok(0);
    };
    let mut n = 0;
    for (member, _) in pivot.iter() {
        if inputs
            .iter()
            .flatten()
            .all(|set| set.score(member).is_some())
        {
            n += 1;
            if n == limit {
                break;
            }
        }
    }
    Ok(n)
}
