//! Type constraints of `variable` blocks: `string`, `list(string)`, `object({a = number})`, ...

use std::collections::BTreeMap;

use hcl_edit::expr::{Expression, ObjectKey};
use terrane_core::{Type, Value};

/// Parses a type constraint expression; `Err` names what was not understood. The defaults of
/// `optional(T, default)` attributes are left out (see [`parse_type_constraint`]).
pub fn parse_type(e: &Expression) -> Result<Type, String> {
    parse_type_constraint(e, &mut |_| Ok(Value::Null)).map(|(t, _)| t)
}

/// Which attributes of an object type are `optional(T, default)`, and what fills one left
/// null, shaped as the type it belongs to. `None` below a type means none are: every attribute
/// of every object type there is required.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum TypeDefaults {
    #[default]
    None,
    /// An object type: per attribute that is optional or has optional attributes inside it,
    /// whether it is optional itself, its default (if one is given) and the defaults inside it.
    Object(BTreeMap<String, (bool, Option<Value>, TypeDefaults)>),
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
                for (k, (_, default, inner)) in attrs {
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

    /// `v` converted to `ty`, as Terraform converts a value to a type constraint: required
    /// attributes checked, the conversion, then the defaults of optional attributes.
    pub fn convert(&self, ty: &Type, v: &Value) -> Result<Value, String> {
        self.check_required(ty, v)?;
        Ok(self.apply(ty.convert(v)?))
    }

    /// Refuses a value of type `ty` that lacks a required attribute of an object type, at any
    /// depth, as Terraform does (`attribute "b" is required`) before it converts the value;
    /// an attribute set to null is present.
    pub fn check_required(&self, ty: &Type, v: &Value) -> Result<(), String> {
        match (ty, v) {
            (Type::Object(fields), Value::Map(m)) => {
                let attrs = match self {
                    TypeDefaults::Object(a) => Some(a),
                    _ => None,
                };
                for (k, ft) in fields {
                    let entry = attrs.and_then(|a| a.get(k));
                    let optional = entry.is_some_and(|(o, _, _)| *o);
                    let inner = entry.map(|(_, _, d)| d).unwrap_or(&TypeDefaults::None);
                    match m.get(k) {
                        None if !optional => return Err(format!("attribute {k:?} is required")),
                        None => {}
                        Some(x) => inner
                            .check_required(ft, x)
                            .map_err(|e| format!("attribute {k:?}: {e}"))?,
                    }
                }
                Ok(())
            }
            (Type::List(t) | Type::Set(t), Value::List(l)) => {
                let inner = self.element();
                for (i, x) in l.iter().enumerate() {
                    inner
                        .check_required(t, x)
                        .map_err(|e| format!("element {i}: {e}"))?;
                }
                Ok(())
            }
            (Type::Map(t), Value::Map(m)) => {
                let inner = self.element();
                for (k, x) in m {
                    inner
                        .check_required(t, x)
                        .map_err(|e| format!("element {k:?}: {e}"))?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn element(&self) -> &TypeDefaults {
        match self {
            TypeDefaults::Elements(d) => d,
            _ => &TypeDefaults::None,
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
                            let (t, d, optional, dv) = attribute_type(v.expr(), default)?;
                            if optional || d != TypeDefaults::None {
                                defaults.insert(key.clone(), (optional, dv, d));
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
/// converted to `T`), and whether it is optional.
fn attribute_type(
    e: &Expression,
    default: &mut dyn FnMut(&Expression) -> Result<Value, String>,
) -> Result<(Type, TypeDefaults, bool, Option<Value>), String> {
    let Expression::FuncCall(f) = e else {
        let (t, d) = parse_type_constraint(e, default)?;
        return Ok((t, d, false, None));
    };
    if f.name.name.value().as_str() != "optional" {
        let (t, d) = parse_type_constraint(e, default)?;
        return Ok((t, d, false, None));
    }
    let args: Vec<&Expression> = f.args.iter().collect();
    match args.as_slice() {
        [t] => {
            let (t, d) = parse_type_constraint(t, default)?;
            Ok((t, d, true, None))
        }
        [t, dv] => {
            let (t, d) = parse_type_constraint(t, default)?;
            let v = default(dv)?;
            let v = t.convert(&v).map_err(|m| {
                format!("the default of an optional attribute does not fit its type: {m}")
            })?;
            Ok((t, d, true, (!v.is_null()).then_some(v)))
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
    fn a_missing_required_attribute_is_refused_at_any_depth() {
        let (t, d) = constraint(
            "list(object({ name = string, port = optional(number), tls = optional(object({ cert = string })) }))",
        )
        .unwrap();
        let ok = Value::List(vec![Value::map([("name", Value::from("a"))])]);
        assert_eq!(d.check_required(&t, &ok), Ok(()));
        let null_is_present = Value::List(vec![Value::map([("name", Value::Null)])]);
        assert_eq!(d.check_required(&t, &null_is_present), Ok(()));
        let no_name = Value::List(vec![Value::map([("port", Value::from(1.0))])]);
        assert_eq!(
            d.check_required(&t, &no_name),
            Err("element 0: attribute \"name\" is required".into())
        );
        let no_cert = Value::List(vec![Value::map([
            ("name", Value::from("a")),
            ("tls", Value::map([("key", Value::from("k"))])),
        ])]);
        assert_eq!(
            d.check_required(&t, &no_cert),
            Err("element 0: attribute \"tls\": attribute \"cert\" is required".into())
        );
        // Without any optional attribute, every attribute is required.
        let (t, d) = constraint("map(object({ a = number }))").unwrap();
        let v = Value::map([("x", Value::map([("b", Value::from(1.0))]))]);
        assert_eq!(
            d.check_required(&t, &v),
            Err("element \"x\": attribute \"a\" is required".into())
        );
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
        // Without a default an optional attribute may be left out, and is null.
        let (t, d) = constraint("object({ a = optional(string) })").unwrap();
        assert_eq!(d.check_required(&t, &Value::map::<&str>([])), Ok(()));
        let v = d.apply(t.convert(&Value::map::<&str>([])).unwrap());
        assert_eq!(v.get("a"), Some(&Value::Null));
    }
}
