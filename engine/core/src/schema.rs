//! Resource schemas: what a provider declares about each resource type.

use std::collections::{BTreeMap, BTreeSet};

use crate::value::{Value, ValueMap};

/// An attribute path inside a resource, e.g. `["ingress", "0", "from_port"]`.
pub type AttrPath = Vec<String>;

/// Attribute types. `Any` accepts every value (Terraform's `any`/dynamic).
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    String,
    Number,
    Bool,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Any,
}

impl Type {
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }

    /// Converts `v` to this type following Terraform's safe conversions (number and bool to
    /// string and back, tuples to lists and sets, objects to maps). Unknown stays unknown.
    pub fn convert(&self, v: &Value) -> Result<Value, String> {
        match (self, v) {
            (_, Value::Unknown) | (_, Value::Null) | (Type::Any, _) => Ok(v.clone()),
            (Type::String, Value::String(_)) => Ok(v.clone()),
            (Type::String, Value::Number(_) | Value::Bool(_)) => {
                Ok(Value::String(v.to_template_string().unwrap_or_default()))
            }
            (Type::Number, Value::Number(_)) => Ok(v.clone()),
            (Type::Number, Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .map(Value::Number)
                .map_err(|_| format!("a number is required, got the string {s:?}")),
            (Type::Bool, Value::Bool(_)) => Ok(v.clone()),
            (Type::Bool, Value::String(s)) if s == "true" || s == "false" => {
                Ok(Value::Bool(s == "true"))
            }
            (Type::List(t), Value::List(items)) => Ok(Value::List(
                items
                    .iter()
                    .map(|i| t.convert(i))
                    .collect::<Result<_, _>>()?,
            )),
            (Type::Set(t), Value::List(items)) => {
                let mut out: Vec<Value> = items
                    .iter()
                    .map(|i| t.convert(i))
                    .collect::<Result<_, _>>()?;
                dedup_set(&mut out);
                Ok(Value::List(out))
            }
            (Type::Map(t), Value::Map(m)) => Ok(Value::Map(
                m.iter()
                    .map(|(k, i)| Ok((k.clone(), t.convert(i)?)))
                    .collect::<Result<_, String>>()?,
            )),
            (Type::Object(fields), Value::Map(m)) => {
                let mut out = ValueMap::new();
                for (k, ft) in fields {
                    let fv = m.get(k).cloned().unwrap_or(Value::Null);
                    out.insert(
                        k.clone(),
                        ft.convert(&fv)
                            .map_err(|e| format!("attribute {k:?}: {e}"))?,
                    );
                }
                Ok(Value::Map(out))
            }
            (t, v) => Err(format!("{} required, got {}", t.describe(), v.type_name())),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Type::String => "a string is".into(),
            Type::Number => "a number is".into(),
            Type::Bool => "a bool is".into(),
            Type::List(_) => "a list is".into(),
            Type::Set(_) => "a set is".into(),
            Type::Map(_) => "a map is".into(),
            Type::Object(_) => "an object is".into(),
            Type::Any => "any value is".into(),
        }
    }
}

impl Type {
    /// The type in the JSON notation of Terraform's type system (cty): `"string"`,
    /// `["list", "string"]`, `["object", {"a": "number"}]`, `"dynamic"` for `any`. The plugin
    /// contract carries attribute types in this notation.
    pub fn to_type_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Type::String => json!("string"),
            Type::Number => json!("number"),
            Type::Bool => json!("bool"),
            Type::Any => json!("dynamic"),
            Type::List(t) => json!(["list", t.to_type_json()]),
            Type::Set(t) => json!(["set", t.to_type_json()]),
            Type::Map(t) => json!(["map", t.to_type_json()]),
            Type::Object(f) => {
                let fields: serde_json::Map<String, serde_json::Value> = f
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_type_json()))
                    .collect();
                json!(["object", fields])
            }
        }
    }

    /// Inverse of [`Type::to_type_json`].
    pub fn from_type_json(j: &serde_json::Value) -> Result<Type, String> {
        use serde_json::Value as J;
        match j {
            J::String(s) => match s.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Any),
                other => Err(format!("unknown type {other:?}")),
            },
            J::Array(a) if a.len() == 2 => {
                let kind = a[0].as_str().unwrap_or_default();
                match kind {
                    "list" => Ok(Type::list(Type::from_type_json(&a[1])?)),
                    "set" => Ok(Type::set(Type::from_type_json(&a[1])?)),
                    "map" => Ok(Type::map(Type::from_type_json(&a[1])?)),
                    "object" => {
                        let J::Object(o) = &a[1] else {
                            return Err("an object type needs a map of attribute types".into());
                        };
                        Ok(Type::Object(
                            o.iter()
                                .map(|(k, t)| Ok((k.clone(), Type::from_type_json(t)?)))
                                .collect::<Result<_, String>>()?,
                        ))
                    }
                    other => Err(format!("unknown type constructor {other:?}")),
                }
            }
            other => Err(format!("not a type: {other}")),
        }
    }
}

/// Sets are stored as sorted, de-duplicated lists so that comparisons ignore order.
pub fn dedup_set(items: &mut Vec<Value>) {
    items.sort_by_key(|a| a.to_json().to_string());
    items.dedup();
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub ty: Type,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    /// A change to this attribute cannot be made in place: the resource is replaced.
    pub force_new: bool,
    /// The value planned when the configuration leaves the attribute unset.
    pub default: Option<Value>,
}

impl Attribute {
    pub fn required(ty: Type) -> Self {
        Attribute {
            ty,
            required: true,
            optional: false,
            computed: false,
            sensitive: false,
            force_new: false,
            default: None,
        }
    }
    pub fn optional(ty: Type) -> Self {
        Attribute {
            required: false,
            optional: true,
            ..Attribute::required(ty)
        }
    }
    pub fn computed(ty: Type) -> Self {
        Attribute {
            required: false,
            optional: false,
            computed: true,
            ..Attribute::required(ty)
        }
    }
    /// Optional, and computed by the provider when not set.
    pub fn optional_computed(ty: Type) -> Self {
        Attribute {
            optional: true,
            computed: true,
            ..Attribute::computed(ty)
        }
    }
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// Optional with a default value.
    pub fn with_default(mut self, v: impl Into<Value>) -> Self {
        self.default = Some(v.into());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// Zero or one block; the value is an object or null.
    Single,
    /// Any number of blocks in order; the value is a list of objects.
    List,
    /// Any number of blocks, order irrelevant; the value is a set of objects.
    Set,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BlockSchema {
    pub nesting: Nesting,
    pub schema: ResourceSchema,
    pub force_new: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceSchema {
    pub attributes: BTreeMap<String, Attribute>,
    pub blocks: BTreeMap<String, BlockSchema>,
    /// Arguments and blocks that the reference provider of this type takes (hashicorp/aws for
    /// the AWS provider) and this one does not yet: refused as "not supported yet" rather than
    /// as unknown, so that a user knows the configuration is right and the tool is behind.
    pub not_yet: BTreeSet<String>,
}

impl ResourceSchema {
    pub fn new() -> Self {
        ResourceSchema::default()
    }
    /// The error for `name`, an argument or block this schema lacks: "not supported yet" when
    /// the reference provider takes it, `None` when it is simply unknown.
    pub fn not_yet_message(&self, name: &str) -> Option<String> {
        self.not_yet.contains(name).then(|| {
            format!("Terraform's provider takes {name:?} here; Terrane does not support it yet.")
        })
    }
    pub fn attr(mut self, name: &str, a: Attribute) -> Self {
        self.attributes.insert(name.to_string(), a);
        self
    }
    pub fn block(mut self, name: &str, nesting: Nesting, schema: ResourceSchema) -> Self {
        self.blocks.insert(
            name.to_string(),
            BlockSchema {
                nesting,
                schema,
                force_new: false,
            },
        );
        self
    }
    /// A block whose change replaces the resource.
    pub fn block_force_new(mut self, name: &str, nesting: Nesting, schema: ResourceSchema) -> Self {
        self = self.block(name, nesting, schema);
        if let Some(b) = self.blocks.get_mut(name) {
            b.force_new = true;
        }
        self
    }

    /// Fills the defaults of attributes inside nested blocks that the configuration left unset,
    /// so that a block compares equal to what the provider reads back.
    pub fn fill_block_defaults(&self, v: &mut Value) {
        let Value::Map(m) = v else { return };
        for (name, b) in &self.blocks {
            let Some(bv) = m.get_mut(name) else { continue };
            let items: Vec<&mut Value> = match bv {
                Value::List(l) => l.iter_mut().collect(),
                Value::Map(_) => vec![bv],
                _ => continue,
            };
            for item in items {
                if let Value::Map(im) = item {
                    for (an, a) in &b.schema.attributes {
                        if let Some(d) = &a.default {
                            let e = im.entry(an.clone()).or_insert(Value::Null);
                            if e.is_null() {
                                *e = d.clone();
                            }
                        }
                    }
                }
                b.schema.fill_block_defaults(item);
            }
        }
    }

    /// Top-level attributes that hold secrets.
    pub fn sensitive_attrs(&self) -> impl Iterator<Item = &str> {
        self.attributes
            .iter()
            .filter(|(_, a)| a.sensitive)
            .map(|(k, _)| k.as_str())
    }

    /// The plan most providers want: the configuration, with computed attributes that the user
    /// left unset carried over from the prior state (or unknown on create/replace), and the
    /// list of force-new attributes whose value changes.
    pub fn default_plan(&self, prior: Option<&Value>, config: &Value) -> (Value, Vec<AttrPath>) {
        let mut filled = config.clone();
        self.fill_block_defaults(&mut filled);
        let config = &filled;
        let mut requires_replace = Vec::new();
        if let Some(prior) = prior {
            for (name, a) in &self.attributes {
                if !a.force_new {
                    continue;
                }
                let c = match (config.get(name), &a.default) {
                    (Some(v), _) if !v.is_null() => v,
                    (_, Some(d)) => d,
                    (v, None) => v.unwrap_or(&Value::Null),
                };
                let p = prior.get(name).unwrap_or(&Value::Null);
                let unset_computed = a.computed && c.is_null();
                if !unset_computed && c != p {
                    requires_replace.push(vec![name.clone()]);
                }
            }
            for (name, b) in &self.blocks {
                if b.force_new && config.get(name) != prior.get(name) {
                    requires_replace.push(vec![name.clone()]);
                }
            }
        }
        let keep_prior = prior.is_some() && requires_replace.is_empty();
        let mut planned = config.as_map().cloned().unwrap_or_default();
        for (name, a) in &self.attributes {
            let set = planned.get(name).is_some_and(|v| !v.is_null());
            if let (false, Some(d)) = (set, &a.default) {
                planned.insert(name.clone(), d.clone());
            } else if a.computed && !set {
                let v = if keep_prior {
                    prior
                        .and_then(|p| p.get(name))
                        .cloned()
                        .unwrap_or(Value::Unknown)
                } else {
                    Value::Unknown
                };
                planned.insert(name.clone(), v);
            } else if !planned.contains_key(name) {
                planned.insert(name.clone(), Value::Null);
            }
        }
        (Value::Map(planned), requires_replace)
    }
}

/// Everything a provider declares: its own configuration and its resource and data types.
#[derive(Debug, Clone, Default)]
pub struct ProviderSchema {
    pub provider: ResourceSchema,
    pub resources: BTreeMap<String, ResourceSchema>,
    pub data_sources: BTreeMap<String, ResourceSchema>,
}

/// Schemas as JSON: the `block` of Terraform's `providers schema -json` (`attributes`, each with
/// its `type` and `required` / `optional` / `computed` / `sensitive`; `block_types`, each with
/// its `nesting_mode` and `block`), with what Terraform's format leaves to the provider's plan
/// written beside: `force_new` on an attribute or block, and an attribute's `default`. A
/// provider can declare its types in such files instead of in code.
impl ResourceSchema {
    pub fn to_block_json(&self) -> serde_json::Value {
        use serde_json::{json, Map};
        let mut attrs = Map::new();
        for (name, a) in &self.attributes {
            let mut j = Map::new();
            j.insert("type".into(), a.ty.to_type_json());
            for (flag, on) in [
                ("required", a.required),
                ("optional", a.optional),
                ("computed", a.computed),
                ("sensitive", a.sensitive),
                ("force_new", a.force_new),
            ] {
                if on {
                    j.insert(flag.into(), json!(true));
                }
            }
            if let Some(d) = &a.default {
                j.insert("default".into(), d.to_json());
            }
            attrs.insert(name.clone(), j.into());
        }
        let mut blocks = Map::new();
        for (name, b) in &self.blocks {
            let mode = match b.nesting {
                Nesting::Single => "single",
                Nesting::List => "list",
                Nesting::Set => "set",
            };
            let mut j = Map::new();
            j.insert("nesting_mode".into(), json!(mode));
            if b.force_new {
                j.insert("force_new".into(), json!(true));
            }
            j.insert("block".into(), b.schema.to_block_json());
            blocks.insert(name.clone(), j.into());
        }
        let mut out = Map::new();
        if !attrs.is_empty() {
            out.insert("attributes".into(), attrs.into());
        }
        if !blocks.is_empty() {
            out.insert("block_types".into(), blocks.into());
        }
        out.into()
    }

    /// Inverse of [`ResourceSchema::to_block_json`]; an error names the attribute or block, by
    /// its path, whose JSON is not a schema.
    pub fn from_block_json(j: &serde_json::Value) -> Result<Self, String> {
        let mut s = ResourceSchema::new();
        let section = |key: &str| -> Result<_, String> {
            match j.get(key) {
                None => Ok(serde_json::Map::new()),
                Some(serde_json::Value::Object(m)) => Ok(m.clone()),
                Some(_) => Err(format!("{key:?} is not an object")),
            }
        };
        for (name, a) in section("attributes")? {
            let flag = |f: &str| a.get(f).and_then(serde_json::Value::as_bool) == Some(true);
            let ty = Type::from_type_json(a.get("type").unwrap_or(&serde_json::Value::Null))
                .map_err(|e| format!("attribute {name:?}: {e}"))?;
            if [flag("required"), flag("optional"), flag("computed")] == [false; 3] {
                return Err(format!(
                    "attribute {name:?}: none of required, optional or computed"
                ));
            }
            let attr = Attribute {
                ty,
                required: flag("required"),
                optional: flag("optional"),
                computed: flag("computed"),
                sensitive: flag("sensitive"),
                force_new: flag("force_new"),
                default: a.get("default").map(Value::from_json),
            };
            s.attributes.insert(name, attr);
        }
        for (name, b) in section("block_types")? {
            let nesting = match b.get("nesting_mode").and_then(serde_json::Value::as_str) {
                Some("single") => Nesting::Single,
                Some("list") => Nesting::List,
                Some("set") => Nesting::Set,
                other => return Err(format!("block {name:?}: nesting_mode {other:?}")),
            };
            let inner = b.get("block").cloned().unwrap_or_default();
            let schema = ResourceSchema::from_block_json(&inner)
                .map_err(|e| format!("block {name:?}: {e}"))?;
            let force_new = b.get("force_new").and_then(serde_json::Value::as_bool) == Some(true);
            s.blocks.insert(
                name,
                BlockSchema {
                    nesting,
                    schema,
                    force_new,
                },
            );
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> ResourceSchema {
        ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr("size", Attribute::optional(Type::Number))
    }

    #[test]
    fn default_plan_create_marks_computed_unknown() {
        let cfg = Value::map([("name", Value::from("a"))]);
        let (p, rr) = schema().default_plan(None, &cfg);
        assert_eq!(p.get("id"), Some(&Value::Unknown));
        assert_eq!(p.get("size"), Some(&Value::Null));
        assert!(rr.is_empty());
    }

    #[test]
    fn default_plan_update_keeps_id_and_replace_names_attr() {
        let prior = Value::map([
            ("id", "i-1".into()),
            ("name", "a".into()),
            ("size", Value::Null),
        ]);
        let cfg = Value::map([("name", Value::from("a")), ("size", Value::from(2i64))]);
        let (p, rr) = schema().default_plan(Some(&prior), &cfg);
        assert_eq!(p.get("id"), Some(&Value::from("i-1")));
        assert!(rr.is_empty());
        let cfg2 = Value::map([("name", Value::from("b"))]);
        let (p2, rr2) = schema().default_plan(Some(&prior), &cfg2);
        assert_eq!(rr2, vec![vec!["name".to_string()]]);
        assert_eq!(p2.get("id"), Some(&Value::Unknown));
    }

    #[test]
    fn conversions_follow_terraform() {
        assert_eq!(
            Type::String.convert(&Value::from(5i64)).unwrap(),
            Value::from("5")
        );
        assert_eq!(
            Type::Number.convert(&Value::from("5")).unwrap(),
            Value::from(5i64)
        );
        assert!(Type::Number.convert(&Value::from("x")).is_err());
        assert!(Type::String.convert(&Value::List(vec![])).is_err());
    }

    #[test]
    fn type_json_notation_round_trips() {
        let t = Type::Object(
            [
                ("a".to_string(), Type::list(Type::String)),
                ("b".to_string(), Type::map(Type::set(Type::Number))),
                ("c".to_string(), Type::Any),
                ("d".to_string(), Type::Bool),
            ]
            .into(),
        );
        let j = t.to_type_json();
        assert_eq!(
            j.to_string(),
            r#"["object",{"a":["list","string"],"b":["map",["set","number"]],"c":"dynamic","d":"bool"}]"#
        );
        assert_eq!(Type::from_type_json(&j).unwrap(), t);
        assert!(Type::from_type_json(&serde_json::json!(["tuple", "x"])).is_err());
        assert!(Type::from_type_json(&serde_json::json!("str")).is_err());
    }
    #[test]
    fn a_schema_goes_to_terraforms_block_json_and_back_unchanged() {
        let s = ResourceSchema::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr("secret", Attribute::optional(Type::String).sensitive())
            .attr(
                "port",
                Attribute::optional_computed(Type::Number).with_default(80.0),
            )
            .attr(
                "rules",
                Attribute::optional(Type::list(Type::Object(
                    [("from".to_string(), Type::Number)].into_iter().collect(),
                ))),
            )
            .block(
                "timeouts",
                Nesting::Single,
                ResourceSchema::new().attr("create", Attribute::optional(Type::String)),
            )
            .block_force_new(
                "selector",
                Nesting::Set,
                ResourceSchema::new().attr("labels", Attribute::optional(Type::map(Type::String))),
            );
        let j = s.to_block_json();
        assert_eq!(
            j["attributes"]["name"]["force_new"],
            serde_json::json!(true)
        );
        assert_eq!(j["block_types"]["selector"]["nesting_mode"], "set");
        assert_eq!(ResourceSchema::from_block_json(&j).unwrap(), s);
    }

    #[test]
    fn block_json_that_is_not_a_schema_is_refused_with_its_path() {
        let j = serde_json::json!({"block_types": {"b": {"nesting_mode": "list",
            "block": {"attributes": {"a": {"type": "strin", "optional": true}}}}}});
        let e = ResourceSchema::from_block_json(&j).unwrap_err();
        assert_eq!(e, "block \"b\": attribute \"a\": unknown type \"strin\"");
        let j = serde_json::json!({"attributes": {"a": {"type": "string"}}});
        assert!(ResourceSchema::from_block_json(&j)
            .unwrap_err()
            .contains("none of"));
    }
}
