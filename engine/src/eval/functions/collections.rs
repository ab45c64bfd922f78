//! Collection and number functions beyond the basics: `sum`, `index`, the set functions,
//! `setproduct`, `chunklist`, `matchkeys`, `transpose`, `signum`, `pow`, `log`, `parseint`.

use terrane_core::schema::dedup_set;
use terrane_core::{Value, ValueMap};

use super::{arity, list, map, n, s, R};

pub(super) fn call(name: &str, a: &[Value]) -> Option<R> {
    Some(match name {
        "sum" => arity(name, a, 1).and_then(|()| {
            let items = list(&a[0])?;
            if items.is_empty() {
                return Err("cannot sum an empty list".into());
            }
            items
                .iter()
                .try_fold(0.0, |acc, v| match v {
                    Value::Number(x) => Ok(acc + x),
                    Value::String(_) => n(v).map(|x| acc + x).map_err(|_| {
                        "argument must be list, set, or tuple of number values".to_string()
                    }),
                    o => Err(format!("sum() takes numbers, not {}", o.type_name())),
                })
                .map(Value::Number)
        }),
        "index" => arity(name, a, 2).and_then(|()| {
            list(&a[0])?
                .iter()
                .position(|v| *v == a[1])
                .map(|i| Value::from(i as i64))
                .ok_or_else(|| "item not found".to_string())
        }),
        "setunion" => sets(name, a).map(|sets| {
            let out: Vec<Value> = sets.into_iter().flatten().cloned().collect();
            Value::List(set_of(unify(out)))
        }),
        "setintersection" => sets(name, a).map(|sets| {
            let (first, rest) = sets.split_first().expect("at least one set");
            let out: Vec<Value> = first
                .iter()
                .filter(|v| rest.iter().all(|s| s.contains(v)))
                .cloned()
                .collect();
            Value::List(set_of(out))
        }),
        "setsubtract" => arity(name, a, 2).and_then(|()| {
            let b = list(&a[1])?;
            let out: Vec<Value> = list(&a[0])?
                .iter()
                .filter(|v| !b.contains(v))
                .cloned()
                .collect();
            Ok(Value::List(set_of(out)))
        }),
        "chunklist" => arity(name, a, 2).and_then(|()| {
            let size = n(&a[1])?;
            if size < 0.0 || size.fract() != 0.0 {
                return Err("the chunk size must be a whole number, 0 or more".into());
            }
            let items = list(&a[0])?;
            if size == 0.0 {
                return Ok(Value::List(vec![Value::List(items.clone())]));
            }
            Ok(Value::List(
                items
                    .chunks(size as usize)
                    .map(|c| Value::List(c.to_vec()))
                    .collect(),
            ))
        }),
        "matchkeys" => arity(name, a, 3).and_then(|()| {
            let (values, keys, search) = (list(&a[0])?, list(&a[1])?, list(&a[2])?);
            if values.len() != keys.len() {
                return Err("the values and keys lists must have the same length".into());
            }
            Ok(Value::List(
                values
                    .iter()
                    .zip(keys)
                    .filter(|(_, k)| search.contains(k))
                    .map(|(v, _)| v.clone())
                    .collect(),
            ))
        }),
        "transpose" => arity(name, a, 1).and_then(|()| {
            let mut out: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
            for (k, vs) in map(&a[0])? {
                for v in list(vs)? {
                    out.entry(s(v)?).or_default().push(Value::String(k.clone()));
                }
            }
            let mut m = ValueMap::default();
            for (k, vs) in out {
                m.insert(k, Value::List(set_of(vs)));
            }
            Ok(Value::Map(m))
        }),
        "signum" => arity(name, a, 1).and_then(|()| {
            let x = n(&a[0])?;
            Ok(Value::Number(if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }))
        }),
        "pow" => arity(name, a, 2).and_then(|()| Ok(Value::Number(n(&a[0])?.powf(n(&a[1])?)))),
        "log" => arity(name, a, 2).and_then(|()| Ok(Value::Number(n(&a[0])?.log(n(&a[1])?)))),
        "parseint" => arity(name, a, 2).and_then(|()| {
            let base = n(&a[1])?;
            if !(2.0..=62.0).contains(&base) || base.fract() != 0.0 {
                return Err(format!(
                    "base must be a whole number from 2 to 62, not {base}"
                ));
            }
            let t = s(&a[0])?;
            let (neg, digits) = match t.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, t.strip_prefix('+').unwrap_or(&t)),
            };
            let mut v: f64 = 0.0;
            if digits.is_empty() {
                return Err(format!("cannot parse {t:?} as a base {base} integer"));
            }
            for ch in digits.chars() {
                let d = match ch {
                    '0'..='9' => ch as u32 - '0' as u32,
                    'a'..='z' => ch as u32 - 'a' as u32 + 10,
                    'A'..='Z' if base <= 36.0 => ch as u32 - 'A' as u32 + 10,
                    'A'..='Z' => ch as u32 - 'A' as u32 + 36,
                    _ => u32::MAX,
                };
                if f64::from(d) >= base {
                    return Err(format!("cannot parse {t:?} as a base {base} integer"));
                }
                v = v * base + f64::from(d);
            }
            Ok(Value::Number(if neg { -v } else { v }))
        }),
        "setproduct" => {
            if a.is_empty() {
                return Some(Err("setproduct() takes at least one set".into()));
            }
            a.iter()
                .map(list)
                .collect::<Result<Vec<_>, _>>()
                .map(|sets| {
                    let mut out: Vec<Vec<Value>> = vec![vec![]];
                    for set in sets {
                        out = out
                            .into_iter()
                            .flat_map(|row| {
                                set.iter().map(move |x| {
                                    let mut r = row.clone();
                                    r.push(x.clone());
                                    r
                                })
                            })
                            .collect();
                    }
                    Value::List(out.into_iter().map(Value::List).collect())
                })
        }
        _ => return None,
    })
}

pub(super) const NAMES: &[&str] = &[
    "setproduct",
    "sum",
    "index",
    "setunion",
    "setintersection",
    "setsubtract",
    "chunklist",
    "matchkeys",
    "transpose",
    "signum",
    "pow",
    "log",
    "parseint",
];

fn sets<'a>(name: &str, a: &'a [Value]) -> Result<Vec<&'a Vec<Value>>, String> {
    if a.is_empty() {
        return Err(format!("{name}() takes at least one set"));
    }
    a.iter().map(list).collect()
}

/// The elements of a list converted to one type, as Terraform's `tolist`, `toset` and `tomap`
/// do: primitives of different kinds all become strings.
pub(super) fn unify(items: Vec<Value>) -> Vec<Value> {
    let kind = |v: &Value| match v {
        Value::String(_) => 1,
        Value::Number(_) => 2,
        Value::Bool(_) => 3,
        Value::Null | Value::Unknown => 0,
        _ => 4,
    };
    let mut kinds: Vec<u8> = items.iter().map(kind).filter(|k| *k != 0).collect();
    kinds.sort();
    kinds.dedup();
    if kinds.len() < 2 || kinds.contains(&4) {
        return items;
    }
    items
        .into_iter()
        .map(|v| match v.to_template_string() {
            Some(t) if !v.is_null() => Value::String(t),
            _ => v,
        })
        .collect()
}

/// A set's elements in Terraform's order: numbers by value, strings lexically, others by
/// their JSON; duplicates removed.
pub(super) fn set_of(mut items: Vec<Value>) -> Vec<Value> {
    if items.iter().all(|v| matches!(v, Value::Number(_))) {
        items.sort_by(|a, b| match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.total_cmp(y),
            _ => std::cmp::Ordering::Equal,
        });
        items.dedup();
    } else if items.iter().all(|v| matches!(v, Value::String(_))) {
        items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        items.dedup();
    } else {
        dedup_set(&mut items);
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, args: &[Value]) -> R {
        call(name, args).expect("a function of this file")
    }
    fn l(items: &[&str]) -> Value {
        Value::List(items.iter().map(|x| Value::from(*x)).collect())
    }
    fn num(x: f64) -> Value {
        Value::Number(x)
    }

    /// The examples of Terraform's documentation for each function.
    #[test]
    fn collection_functions_match_terraform() {
        let nums = Value::List(vec![num(10.0), num(13.0), num(6.0), num(4.5)]);
        assert_eq!(c("sum", &[nums]).unwrap(), num(33.5));
        assert!(c("sum", &[l(&[])]).unwrap_err().contains("empty"));
        assert_eq!(
            c("index", &[l(&["a", "b", "c"]), Value::from("b")]).unwrap(),
            num(1.0)
        );
        assert!(c("index", &[l(&["a"]), Value::from("z")]).is_err());
        let mut u = c("setunion", &[l(&["a", "b"]), l(&["b", "c"]), l(&["d"])]).unwrap();
        if let Value::List(items) = &mut u {
            items.sort_by_key(|v| v.as_str().unwrap_or_default().to_string());
        }
        assert_eq!(u, l(&["a", "b", "c", "d"]));
        assert_eq!(
            c(
                "setintersection",
                &[l(&["a", "b"]), l(&["b", "c"]), l(&["b", "d"])]
            )
            .unwrap(),
            l(&["b"])
        );
        assert_eq!(
            c("setsubtract", &[l(&["a", "b", "c"]), l(&["a", "c"])]).unwrap(),
            l(&["b"])
        );
        assert_eq!(
            c("chunklist", &[l(&["a", "b", "c", "d", "e"]), num(2.0)]).unwrap(),
            Value::List(vec![l(&["a", "b"]), l(&["c", "d"]), l(&["e"])])
        );
        assert_eq!(
            c("chunklist", &[l(&["a", "b"]), num(0.0)]).unwrap(),
            Value::List(vec![l(&["a", "b"])])
        );
        assert_eq!(
            c(
                "matchkeys",
                &[
                    l(&["i-123", "i-abc", "i-def"]),
                    l(&["us-west", "us-east", "us-east"]),
                    l(&["us-east"])
                ]
            )
            .unwrap(),
            l(&["i-abc", "i-def"])
        );
        assert_eq!(
            c(
                "transpose",
                &[Value::map([("a", l(&["1", "2"])), ("b", l(&["2", "3"]))])]
            )
            .unwrap(),
            Value::map([("1", l(&["a"])), ("2", l(&["a", "b"])), ("3", l(&["b"]))])
        );
    }

    #[test]
    fn number_functions_match_terraform() {
        assert_eq!(c("signum", &[num(-13.0)]).unwrap(), num(-1.0));
        assert_eq!(c("signum", &[num(0.0)]).unwrap(), num(0.0));
        assert_eq!(c("pow", &[num(3.0), num(2.0)]).unwrap(), num(9.0));
        assert_eq!(c("log", &[num(16.0), num(2.0)]).unwrap(), num(4.0));
        let p = |t: &str, b: f64| c("parseint", &[Value::from(t), num(b)]);
        assert_eq!(p("100", 10.0).unwrap(), num(100.0));
        assert_eq!(p("FF", 16.0).unwrap(), num(255.0));
        assert_eq!(p("-10", 16.0).unwrap(), num(-16.0));
        assert_eq!(p("1011111011101111", 2.0).unwrap(), num(48879.0));
        assert_eq!(p("aA", 62.0).unwrap(), num(10.0 * 62.0 + 36.0));
        assert!(p("12", 2.0).is_err());
        assert!(p("10", 1.0).is_err());
    }
}
