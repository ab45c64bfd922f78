//! Unary and binary operators.

use hcl_edit::expr::{BinaryOperator as B, UnaryOperator as U};
use terrane_core::Value;

fn num(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => Ok(*n),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("a number is required, got the string {s:?}")),
        other => Err(format!("a number is required, got {}", other.type_name())),
    }
}

fn boolean(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
        other => Err(format!("a bool is required, got {}", other.type_name())),
    }
}

pub fn unary(op: U, v: Value) -> Result<Value, String> {
    if v.is_unknown() {
        return Ok(Value::Unknown);
    }
    match op {
        U::Neg => Ok(Value::Number(-num(&v)?)),
        U::Not => Ok(Value::Bool(!boolean(&v)?)),
    }
}

/// Equality as HCL defines it: numbers by value, collections deeply; unknown if either side has
/// unknowns.
fn equal(l: &Value, r: &Value) -> Option<bool> {
    if l.contains_unknown() || r.contains_unknown() {
        return None;
    }
    Some(l == r)
}

pub fn binary(op: B, l: Value, r: Value) -> Result<Value, String> {
    match op {
        B::Eq => return Ok(equal(&l, &r).map(Value::Bool).unwrap_or(Value::Unknown)),
        B::NotEq => {
            return Ok(equal(&l, &r)
                .map(|b| Value::Bool(!b))
                .unwrap_or(Value::Unknown))
        }
        _ => {}
    }
    if l.is_unknown() || r.is_unknown() {
        return Ok(Value::Unknown);
    }
    Ok(match op {
        B::And => Value::Bool(boolean(&l)? && boolean(&r)?),
        B::Or => Value::Bool(boolean(&l)? || boolean(&r)?),
        B::Plus => Value::Number(num(&l)? + num(&r)?),
        B::Minus => Value::Number(num(&l)? - num(&r)?),
        B::Mul => Value::Number(num(&l)? * num(&r)?),
        B::Div => {
            let d = num(&r)?;
            if d == 0.0 {
                return Err("division by zero".into());
            }
            Value::Number(num(&l)? / d)
        }
        B::Mod => {
            let d = num(&r)?;
            if d == 0.0 {
                return Err("modulo by zero".into());
            }
            Value::Number(num(&l)? % d)
        }
        B::Less => Value::Bool(num(&l)? < num(&r)?),
        B::LessEq => Value::Bool(num(&l)? <= num(&r)?),
        B::Greater => Value::Bool(num(&l)? > num(&r)?),
        B::GreaterEq => Value::Bool(num(&l)? >= num(&r)?),
        B::Eq | B::NotEq => unreachable!("handled above"),
    })
}
