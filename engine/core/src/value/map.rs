//! [`ValueMap`], the map inside [`Value::Map`]: string keys in order, kept as one sorted vector.
//!
//! Nearly every map a run holds is small (an object's attributes: a resource in state has a
//! handful), and there are as many of them as resources. A `BTreeMap` gives each one a node
//! sized for eleven entries (about 630 bytes for four attributes); a sorted vector holds
//! exactly what it has (about 220), and looks up by binary search over one allocation. The
//! API is the subset of `BTreeMap`'s that the code base uses, with the same meaning: keys
//! unique and iterated in order, a later insert of a key replacing the earlier value.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;

use super::Value;

#[derive(Clone, PartialEq, Default)]
pub struct ValueMap(Vec<(String, Value)>);

pub type Iter<'a> = std::iter::Map<
    std::slice::Iter<'a, (String, Value)>,
    fn(&'a (String, Value)) -> (&'a String, &'a Value),
>;
pub type IterMut<'a> = std::iter::Map<
    std::slice::IterMut<'a, (String, Value)>,
    fn(&'a mut (String, Value)) -> (&'a String, &'a mut Value),
>;
pub type IntoIter = std::vec::IntoIter<(String, Value)>;

impl ValueMap {
    pub const fn new() -> ValueMap {
        ValueMap(Vec::new())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn find<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.0.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub fn get<Q>(&self, key: &Q) -> Option<&Value>
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut Value>
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|i| &mut self.0[i].1)
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).is_ok()
    }

    /// Inserts or replaces; returns the value replaced. Keys that arrive in order (a map
    /// rebuilt from another, JSON read back) are appended without a search.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        if self.0.last().is_none_or(|(last, _)| *last < key) {
            self.0.push((key, value));
            return None;
        }
        match self.find(key.as_str()) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove<Q>(&mut self, key: &Q) -> Option<Value>
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    /// The place of `key`, to fill in when it is vacant (as `BTreeMap::entry`).
    pub fn entry(&mut self, key: String) -> Entry<'_> {
        let at = self.find(key.as_str());
        Entry { map: self, key, at }
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&String, &mut Value) -> bool) {
        self.0.retain_mut(|(k, v)| keep(k, v));
    }

    /// Moves every entry of `other` into `self`, replacing values of keys both have.
    pub fn append(&mut self, other: &mut ValueMap) {
        self.extend(std::mem::take(&mut other.0));
    }

    pub fn first_key_value(&self) -> Option<(&String, &Value)> {
        self.0.first().map(|(k, v)| (k, v))
    }

    pub fn last_key_value(&self) -> Option<(&String, &Value)> {
        self.0.last().map(|(k, v)| (k, v))
    }

    pub fn iter(&self) -> Iter<'_> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> IterMut<'_> {
        self.0.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator + Clone {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + Clone {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn values_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut Value> + ExactSizeIterator {
        self.0.iter_mut().map(|(_, v)| v)
    }

    pub fn into_keys(self) -> impl DoubleEndedIterator<Item = String> + ExactSizeIterator {
        self.0.into_iter().map(|(k, _)| k)
    }

    pub fn into_values(self) -> impl DoubleEndedIterator<Item = Value> + ExactSizeIterator {
        self.0.into_iter().map(|(_, v)| v)
    }

    /// Sorts by key and keeps the last value of each key, as inserting one at a time would.
    fn from_unsorted(mut v: Vec<(String, Value)>) -> ValueMap {
        if v.windows(2).all(|w| w[0].0 < w[1].0) {
            return ValueMap(v);
        }
        v.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(String, Value)> = Vec::with_capacity(v.len());
        for (k, val) in v {
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 = val,
                _ => out.push((k, val)),
            }
        }
        out.shrink_to_fit();
        ValueMap(out)
    }
}

/// A key's place in a [`ValueMap`]: occupied at an index, or vacant where it would go.
pub struct Entry<'a> {
    map: &'a mut ValueMap,
    key: String,
    at: Result<usize, usize>,
}

impl<'a> Entry<'a> {
    pub fn or_insert_with(self, default: impl FnOnce() -> Value) -> &'a mut Value {
        let i = match self.at {
            Ok(i) => i,
            Err(i) => {
                self.map.0.insert(i, (self.key, default()));
                i
            }
        };
        &mut self.map.0[i].1
    }

    pub fn or_insert(self, default: Value) -> &'a mut Value {
        self.or_insert_with(|| default)
    }

    pub fn or_default(self) -> &'a mut Value {
        self.or_insert_with(Value::default)
    }
}

impl fmt::Debug for ValueMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl FromIterator<(String, Value)> for ValueMap {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> ValueMap {
        ValueMap::from_unsorted(iter.into_iter().collect())
    }
}

impl Extend<(String, Value)> for ValueMap {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        let before = self.0.len();
        self.0.extend(iter);
        if self.0.len() > before {
            *self = ValueMap::from_unsorted(std::mem::take(&mut self.0));
        }
    }
}

impl<const N: usize> From<[(String, Value); N]> for ValueMap {
    fn from(items: [(String, Value); N]) -> ValueMap {
        ValueMap::from_iter(items)
    }
}

impl From<BTreeMap<String, Value>> for ValueMap {
    fn from(m: BTreeMap<String, Value>) -> ValueMap {
        ValueMap(m.into_iter().collect())
    }
}

impl From<ValueMap> for BTreeMap<String, Value> {
    fn from(m: ValueMap) -> BTreeMap<String, Value> {
        m.0.into_iter().collect()
    }
}

impl IntoIterator for ValueMap {
    type Item = (String, Value);
    type IntoIter = IntoIter;
    fn into_iter(self) -> IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ValueMap {
    type Item = (&'a String, &'a Value);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut ValueMap {
    type Item = (&'a String, &'a mut Value);
    type IntoIter = IterMut<'a>;
    fn into_iter(self) -> IterMut<'a> {
        self.iter_mut()
    }
}

impl<Q> std::ops::Index<&Q> for ValueMap
where
    String: Borrow<Q>,
    Q: Ord + ?Sized,
{
    type Output = Value;
    fn index(&self, key: &Q) -> &Value {
        self.get(key).expect("no entry found for key")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(n: f64) -> Value {
        Value::Number(n)
    }

    #[test]
    fn behaves_as_a_btreemap_for_inserts_in_any_order_and_repeated_keys() {
        let keys = ["m", "b", "z", "b", "a", "m", "q", "a"];
        let mut ours = ValueMap::new();
        let mut theirs = BTreeMap::new();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(
                ours.insert(k.to_string(), v(i as f64)),
                theirs.insert(k.to_string(), v(i as f64))
            );
        }
        assert_eq!(ours, ValueMap::from(theirs.clone()));
        let collected: ValueMap = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.to_string(), v(i as f64)))
            .collect();
        assert_eq!(collected, ours);
        assert_eq!(
            ours.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["a", "b", "m", "q", "z"]
        );
        assert_eq!(ours.get("a"), Some(&v(7.0)));
        assert_eq!(ours.remove("m"), theirs.remove("m"));
        assert_eq!(ours.remove("m"), None);
        assert_eq!(ours.len(), theirs.len());
        let mut more = ValueMap::from([("c".to_string(), v(1.0)), ("a".to_string(), v(2.0))]);
        ours.append(&mut more);
        assert!(more.is_empty());
        assert_eq!(
            ours.keys().cloned().collect::<Vec<_>>(),
            ["a", "b", "c", "q", "z"]
        );
        assert_eq!(ours["a"], v(2.0));
        assert_eq!(
            format!("{ours:?}"),
            format!("{:?}", BTreeMap::from(ours.clone()))
        );
    }
}
