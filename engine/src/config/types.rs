//! Type constraints of `variable` blocks: `string`, `list(string)`, `object({a = number})`, ...

use std::collections::BTreeMap;

use hcl_edit::expr::{Expression, ObjectKey};
use terrane_core::{Type, Value};

/// Parses a type constraint expression; `Err` names what was not understood. The defaults of
/// `optional(T, default)` attributes are left out (see [`parse_type_constraint`]).
pub fn parse_type(e: &Expression) -> Result<Type, String> {
    parse_type_constraint(e, &mut |_| Ok(Value::Null)).map(|(t, _)| t)
}

/// What fills an `optional(T, default)` attribute left null, shaped as the type it belongs to.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum TypeDefaults {
    #[default]
    None,
    /// An object type: per attribute, its default (if one is given) and the defaults inside it.
    Object(BTreeMap<String, (Option<Value>, TypeDefaults)>),
    /// A list, set or map: the defaults of every element.
    Elements(Box<TypeDefaults>),
}

impl TypeDefaults {
    /// `v` (already converted to its type) with every null optional attribute that has a
    /// default set to it, at every depth, as Terraform does.
    pub fn apply(&self, v: Value) -> Value {
        match (self, v) {
            (TypeDefaults::None, v) => v,
            (TypeDefaults::Object(attrs), Value::Map(mut m)) => {
                for (k, (default, inner)) in attrs {
                    let cur = m.get(k).cloned().unwrap_or(Value::Null);
                    let cur = match (cur, default) {
                        (Value::Null, Some(d)) => d.clone(),
                        (cur, _) => cur,
                    };
                    m.insert(k.clone(), inner.apply(cur));
                }
                Value::Map(m)
            }
            (TypeDefaults::Elements(inner), Value::List(l)) => {
                Value::List(l.into_iter().map(|x| inner.apply(x)).collect())
            }
            (TypeDefaults::Elements(inner), Value::Map(m)) => {
                Value::Map(m.into_iter().map(|(k, x)| (k, inner.apply(x))).collect())
            }
            (_, v) => v,
        }
    }

    fn elements(inner: TypeDefaults) -> TypeDefaults {
        match inner {
            TypeDefaults::None => TypeDefaults::None,
            d => TypeDefaults::Elements(Box::new(d)),
        }
    }
}

/// Parses a type constraint and the defaults of its `optional(T, default)` attributes;
/// `default` evaluates a default's expression (a constant).
pub fn parse_type_constraint(
    e: &Expression,
    default: &mut dyn FnMut(&Expression) -> Result<Value, String>,
) -> Result<(Type, TypeDefaults), String> {
    match e {
        Expression::Variable(v) => match v.value().as_str() {
            "string" => Ok((Type::String, TypeDefaults::None)),
            "number" => Ok((Type::Number, TypeDefaults::None)),
            "bool" => Ok((Type::Bool, TypeDefaults::None)),
            "any" => Ok((Type::Any, TypeDefaults::None)),
            other => Err(format!("unknown type {other:?}")),
        },
        Expression::FuncCall(f) => {
            let name = f.name.name.value().as_str();
            let args: Vec<&Expression> = f.args.iter().collect();
            let one = |default: &mut dyn FnMut(&Expression) -> Result<Value, String>| match args
                .as_slice()
            {
                [a] => parse_type_constraint(a, default),
                _ => Err(format!("{name}(...) takes one type argument")),
            };
            match name {
                "list" => one(default).map(|(t, d)| (Type::list(t), TypeDefaults::elements(d))),
                "set" => one(default).map(|(t, d)| (Type::set(t), TypeDefaults::elements(d))),
                "map" => one(default).map(|(t, d)| (Type::map(t), TypeDefaults::elements(d))),
                "optional" => {
                    Err("optional(...) is only allowed for the attributes of an object type".into())
                }
                "tuple" => Ok((Type::list(Type::Any), TypeDefaults::None)),
                "object" => match args.as_slice() {
                    [Expression::Object(o)] => {
                        let mut fields = BTreeMap::new();
                        let mut defaults = BTreeMap::new();
                        for (k, v) in o.iter() {
                            let key = match k {
                                ObjectKey::Ident(i) => i.value().as_str().to_string(),
                                ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                                _ => return Err("object type keys must be names".into()),
                            };
                            let (t, d, dv) = attribute_type(v.expr(), default)?;
                            if dv.is_some() || d != TypeDefaults::None {
                                defaults.insert(key.clone(), (dv, d));
                            }
                            fields.insert(key, t);
                        }
                        let d = if defaults.is_empty() {
                            TypeDefaults::None
                        } else {
                            TypeDefaults::Object(defaults)
                        };
                        Ok((Type::Object(fields), d))
                    }
                    _ => Err("object(...) takes an object of attribute types".into()),
                },
                other => Err(format!("unknown type constructor {other:?}")),
            }
        }
        _ => Err("a type constraint is a type name such as string or list(string)".into()),
    }
}

/// An object attribute's type: `T`, `optional(T)` or `optional(T, default)` (the default
/// converted to `T`).
fn attribute_type(
    e: &Expression,
    default: &mut dyn FnMut(&Expression) -> Result<Value, String>,
) -> Result<(Type, TypeDefaults, Option<Value>), String> {
    let Expression::FuncCall(f) = e else {
        let (t, d) = parse_type_constraint(e, default)?;
        return Ok((t, d, None));
    };
    if f.name.name.value().as_str() != "optional" {
        let (t, d) = parse_type_constraint(e, default)?;
        return Ok((t, d, None));
    }
    let args: Vec<&Expression> = f.args.iter().collect();
    match args.as_slice() {
        [t] => {
            let (t, d) = parse_type_constraint(t, default)?;
            Ok((t, d, None))
        }
        [t, dv] => {
            let (t, d) = parse_type_constraint(t, default)?;
            let v = default(dv)?;
            let v = t.convert(&v).map_err(|m| {
                format!("the default of an optional attribute does not fit its type: {m}")
            })?;
            Ok((t, d, (!v.is_null()).then_some(v)))
        }
        _ => Err("optional(...) takes a type and, optionally, a default value".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn constraint(src: &str) -> Result<(Type, TypeDefaults), String> {
        let e: Expression = src.parse().unwrap();
        parse_type_constraint(&e, &mut |e| {
            crate::eval::eval_static(e, &crate::source::SourceFile::new("t.tf", src.into()))
                .map_err(|d| d.0[0].detail.clone())
        })
    }

    #[test]
    fn optional_attributes_take_their_defaults_at_every_depth() {
        let (t, d) = constraint(
            "map(object({ port = optional(number, 80), tags = optional(map(string), {}), health = optional(object({ path = optional(string, \"/\") }), {}), name = string }))",
        )
        .unwrap();
        let given = Value::map([
            ("api", Value::map([("name", Value::from("api"))])),
            (
                "web",
                Value::map([
                    ("name", Value::from("web")),
                    ("port", Value::from(8080.0)),
                    ("health", Value::map([("path", Value::from("/ok"))])),
                ]),
            ),
        ]);
        let v = d.apply(t.convert(&given).unwrap());
        let api = v.get("api").unwrap();
        assert_eq!(api.get("port"), Some(&Value::from(80.0)));
        assert_eq!(api.get("tags"), Some(&Value::Map(Default::default())));
        // The default object gets its own attributes' defaults.
        assert_eq!(
            api.get("health").and_then(|h| h.get("path")),
            Some(&Value::from("/"))
        );
        let web = v.get("web").unwrap();
        assert_eq!(web.get("port"), Some(&Value::from(8080.0)));
        assert_eq!(
            web.get("health").and_then(|h| h.get("path")),
            Some(&Value::from("/ok"))
        );
    }

    #[test]
    fn optional_mistakes_say_what_is_wrong() {
        assert!(constraint("optional(string)")
            .unwrap_err()
            .contains("only allowed for the attributes of an object"));
        assert!(constraint("object({ a = optional(number, \"x\") })")
            .unwrap_err()
            .contains("does not fit its type"));
        // Without a default an optional attribute is null when left out.
        let (t, d) = constraint("object({ a = optional(string) })").unwrap();
        assert_eq!(d, TypeDefaults::None);
        let v = d.apply(t.convert(&Value::map::<&str>([])).unwrap());
        assert_eq!(v.get("a"), Some(&Value::Null));
    }
}
