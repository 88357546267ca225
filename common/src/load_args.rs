//! Module load arguments: `name value` pairs such as `tair-compat yes`.

use crate::string::Args;

/// Parsed load arguments. `tair-compat yes|no` is accepted by every module.
#[derive(Debug, Default, Clone)]
pub struct LoadArgs {
    pairs: Vec<(String, String)>,
}

impl LoadArgs {
    /// Parses `name value` pairs; `known` lists the names a module accepts besides `tair-compat`.
    /// Any other name, a missing value, or a bad `tair-compat` value is an error with a reason.
    pub fn parse<'a>(
        args: impl IntoIterator<Item = &'a [u8]>,
        known: &[&str],
    ) -> Result<Self, String> {
        let items: Vec<String> = args
            .into_iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let mut pairs = Vec::new();
        let mut it = items.into_iter();
        while let Some(name) = it.next() {
            let lname = name.to_ascii_lowercase();
            if lname != "tair-compat" && !known.iter().any(|k| k.eq_ignore_ascii_case(&lname)) {
                return Err(format!("unknown module argument '{name}'"));
            }
            let Some(value) = it.next() else {
                return Err(format!("module argument '{name}' needs a value"));
            };
            if lname == "tair-compat"
                && !matches!(value.to_ascii_lowercase().as_str(), "yes" | "no")
            {
                return Err(format!("tair-compat must be yes or no, not '{value}'"));
            }
            pairs.push((lname, value));
        }
        Ok(LoadArgs { pairs })
    }

    pub fn from_args(args: Args<'_>, known: &[&str]) -> Result<Self, String> {
        Self::parse(args.iter(), known)
    }

    /// The last value given for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn tair_compat(&self) -> bool {
        self.get("tair-compat")
            .is_some_and(|v| v.eq_ignore_ascii_case("yes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &[&str], known: &[&str]) -> Result<LoadArgs, String> {
        LoadArgs::parse(a.iter().map(|s| s.as_bytes()), known)
    }

    #[test]
    fn parses() {
        assert!(!p(&[], &[]).unwrap().tair_compat());
        assert!(p(&["tair-compat", "yes"], &[]).unwrap().tair_compat());
        assert!(!p(&["TAIR-COMPAT", "no"], &[]).unwrap().tair_compat());
        assert!(p(&["tair-compat", "maybe"], &[]).is_err());
        assert!(p(&["tair-compat"], &[]).is_err());
        assert!(p(&["bogus", "1"], &[]).is_err());
        assert_eq!(p(&["hz", "10"], &["hz"]).unwrap().get("hz"), Some("10"));
    }
}
