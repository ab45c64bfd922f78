//! Type constraints of `variable` blocks: `string`, `list(string)`, `object({a = number})`, ...

use std::collections::BTreeMap;

use hcl_edit::expr::{Expression, ObjectKey};
use terrane_core::Type;

/// Parses a type constraint expression; `Err` names what was not understood.
pub fn parse_type(e: &Expression) -> Result<Type, String> {
    match e {
        Expression::Variable(v) => match v.value().as_str() {
            "string" => Ok(Type::String),
            "number" => Ok(Type::Number),
            "bool" => Ok(Type::Bool),
            "any" => Ok(Type::Any),
            other => Err(format!("unknown type {other:?}")),
        },
        Expression::FuncCall(f) => {
            let name = f.name.name.value().as_str();
            let args: Vec<&Expression> = f.args.iter().collect();
            let one = || -> Result<Type, String> {
                match args.as_slice() {
                    [a] => parse_type(a),
                    [a, _default] if name == "optional" => parse_type(a),
                    _ => Err(format!("{name}(...) takes one type argument")),
                }
            };
            match name {
                "list" => Ok(Type::list(one()?)),
                "set" => Ok(Type::set(one()?)),
                "map" => Ok(Type::map(one()?)),
                "optional" => one(),
                "tuple" => Ok(Type::list(Type::Any)),
                "object" => match args.as_slice() {
                    [Expression::Object(o)] => {
                        let mut fields = BTreeMap::new();
                        for (k, v) in o.iter() {
                            let key = match k {
                                ObjectKey::Ident(i) => i.value().as_str().to_string(),
                                ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                                _ => return Err("object type keys must be names".into()),
                            };
                            fields.insert(key, parse_type(v.expr())?);
                        }
                        Ok(Type::Object(fields))
                    }
                    _ => Err("object(...) takes an object of attribute types".into()),
                },
                other => Err(format!("unknown type constructor {other:?}")),
            }
        }
        _ => Err("a type constraint is a type name such as string or list(string)".into()),
    }
}
