//! Example plugin: `random_id`, `random_password` (sensitive) and `random_pet`, with the
//! attribute names of hashicorp/random. Values are generated once, at create, and kept in state;
//! every argument forces a new value. With `provider "random" { seed = N }` the values are
//! deterministic (for tests): each comes from the seed, the resource type, its configuration
//! and how many values this instance generated before.

use terrane_plugin_sdk::*;

#[derive(Default)]
struct Random {
    seed: Option<u64>,
    generated: u64,
}

const ADVERBS: &[&str] = &[
    "amply", "boldly", "calmly", "deeply", "eagerly", "fairly", "gently", "highly", "kindly",
    "lively", "merely", "neatly", "openly", "partly", "quietly", "rarely", "simply", "truly",
    "vastly", "wisely",
];
const ADJECTIVES: &[&str] = &[
    "able", "brave", "clever", "daring", "eager", "fancy", "gentle", "happy", "ideal", "jolly",
    "keen", "lucky", "mellow", "noble", "proud", "quick", "rapid", "sunny", "tidy", "vivid",
    "witty", "young",
];
const NAMES: &[&str] = &[
    "badger", "beetle", "condor", "dingo", "egret", "ferret", "gecko", "heron", "ibis", "jaguar",
    "koala", "lemur", "marmot", "newt", "otter", "puffin", "quail", "raven", "salmon", "tapir",
    "urchin", "vole", "walrus", "yak", "zebra",
];

/// splitmix64: small, fast, good enough for names and test values. Unseeded values take their
/// entropy from the host (WASI random), not from this generator's predictability.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

impl Random {
    fn rng(&mut self, type_name: &str, config: &Value) -> Result<Rng, Error> {
        self.generated += 1;
        match self.seed {
            Some(seed) => {
                let what = format!("{type_name}\0{}\0{}", config.to_json(), self.generated);
                Ok(Rng(seed ^ fnv(what.as_bytes())))
            }
            None => {
                let mut b = [0u8; 8];
                getrandom::fill(&mut b)
                    .map_err(|e| Error::new(format!("no randomness from the host: {e}")))?;
                Ok(Rng(u64::from_le_bytes(b)))
            }
        }
    }
}

fn keepers() -> Attribute {
    Attribute::optional(Type::map(Type::String)).force_new()
}

fn num(v: &Value, k: &str) -> Option<i64> {
    v.get(k).and_then(Value::as_f64).map(|n| n as i64)
}

fn flag(v: &Value, k: &str) -> bool {
    v.get(k).and_then(Value::as_bool).unwrap_or(true)
}

fn text<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(bytes: &[u8], url: bool) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |a, b| (a << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            let c = B64[((n >> (18 - 6 * i)) & 63) as usize];
            out.push(match (url, c) {
                (true, b'+') => '-',
                (true, b'/') => '_',
                (_, c) => c as char,
            });
        }
        if !url {
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
    }
    out
}

fn unbase64_url(s: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'-' => 62,
            b'_' => 63,
            c => B64.iter().position(|x| *x == c)? as u32,
        };
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    Some(out)
}

/// The bytes as one big-endian unsigned number, in decimal.
fn decimal(bytes: &[u8]) -> String {
    let mut digits = vec![0u8]; // little-endian base 10
    for b in bytes {
        let mut carry = u32::from(*b);
        for d in digits.iter_mut() {
            let v = u32::from(*d) * 256 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    digits.iter().rev().map(|d| (b'0' + d) as char).collect()
}

fn id_values(prefix: &str, bytes: &[u8]) -> [(&'static str, Value); 5] {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    [
        ("id", Value::from(base64(bytes, true))),
        (
            "b64_url",
            Value::from(format!("{prefix}{}", base64(bytes, true))),
        ),
        (
            "b64_std",
            Value::from(format!("{prefix}{}", base64(bytes, false))),
        ),
        ("hex", Value::from(format!("{prefix}{hex}"))),
        ("dec", Value::from(format!("{prefix}{}", decimal(bytes)))),
    ]
}

fn with(planned: &Value, items: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    let mut m = planned.as_map().cloned().unwrap_or_default();
    for (k, v) in items {
        m.insert(k.to_string(), v);
    }
    Value::Map(m)
}

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
const SPECIAL: &str = "!@#$%&*()-_=+[]{}<>:?";

fn password(rng: &mut Rng, cfg: &Value) -> Result<String, Error> {
    let length = num(cfg, "length").unwrap_or(16) as usize;
    let special = cfg
        .get("override_special")
        .and_then(Value::as_str)
        .unwrap_or(SPECIAL);
    let classes: Vec<(&str, usize)> = [
        (flag(cfg, "lower"), LOWER, num(cfg, "min_lower")),
        (flag(cfg, "upper"), UPPER, num(cfg, "min_upper")),
        (flag(cfg, "numeric"), DIGITS, num(cfg, "min_numeric")),
        (flag(cfg, "special"), special, num(cfg, "min_special")),
    ]
    .into_iter()
    .filter(|(on, set, _)| *on && !set.is_empty())
    .map(|(_, set, min)| (set, min.unwrap_or(0).max(0) as usize))
    .collect();
    if classes.is_empty() {
        return Err("random_password: at least one character class must be enabled".into());
    }
    let min_total: usize = classes.iter().map(|(_, m)| m).sum();
    if min_total > length {
        return Err(format!(
            "random_password: the minimums add up to {min_total}, more than length {length}"
        )
        .into());
    }
    let all: Vec<char> = classes.iter().flat_map(|(s, _)| s.chars()).collect();
    let mut chars: Vec<char> = Vec::with_capacity(length);
    for (set, min) in &classes {
        let set: Vec<char> = set.chars().collect();
        for _ in 0..*min {
            chars.push(set[rng.below(set.len())]);
        }
    }
    while chars.len() < length {
        chars.push(all[rng.below(all.len())]);
    }
    // Fisher-Yates, so that the minimum characters are not all at the front.
    for i in (1..chars.len()).rev() {
        chars.swap(i, rng.below(i + 1));
    }
    Ok(chars.into_iter().collect())
}

fn pet(rng: &mut Rng, cfg: &Value) -> String {
    let length = num(cfg, "length").unwrap_or(2).max(1) as usize;
    let sep = text(cfg, "separator").unwrap_or("-");
    let mut words = Vec::new();
    if let Some(p) = text(cfg, "prefix") {
        words.push(p.to_string());
    }
    for i in 0..length {
        let list = match length - i {
            1 => NAMES,
            2 => ADJECTIVES,
            _ => ADVERBS,
        };
        words.push(list[rng.below(list.len())].to_string());
    }
    words.join(sep)
}

impl Provider for Random {
    fn manifest(&self) -> Manifest {
        Manifest::new("random", env!("CARGO_PKG_VERSION"))
    }

    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema {
            provider: ResourceSchema::new().attr("seed", Attribute::optional(Type::Number)),
            ..Default::default()
        };
        s.resources.insert(
            "random_id".into(),
            ResourceSchema::new()
                .attr("byte_length", Attribute::required(Type::Number).force_new())
                .attr("prefix", Attribute::optional(Type::String).force_new())
                .attr("keepers", keepers())
                .attr("id", Attribute::computed(Type::String))
                .attr("b64_url", Attribute::computed(Type::String))
                .attr("b64_std", Attribute::computed(Type::String))
                .attr("hex", Attribute::computed(Type::String))
                .attr("dec", Attribute::computed(Type::String)),
        );
        let class = |default: bool| {
            Attribute::optional(Type::Bool)
                .with_default(default)
                .force_new()
        };
        let min = || {
            Attribute::optional(Type::Number)
                .with_default(0i64)
                .force_new()
        };
        s.resources.insert(
            "random_password".into(),
            ResourceSchema::new()
                .attr("length", Attribute::required(Type::Number).force_new())
                .attr("lower", class(true))
                .attr("upper", class(true))
                .attr("numeric", class(true))
                .attr("special", class(true))
                .attr("min_lower", min())
                .attr("min_upper", min())
                .attr("min_numeric", min())
                .attr("min_special", min())
                .attr(
                    "override_special",
                    Attribute::optional(Type::String).force_new(),
                )
                .attr("keepers", keepers())
                .attr("id", Attribute::computed(Type::String))
                .attr("result", Attribute::computed(Type::String).sensitive()),
        );
        s.resources.insert(
            "random_pet".into(),
            ResourceSchema::new()
                .attr(
                    "length",
                    Attribute::optional(Type::Number)
                        .with_default(2i64)
                        .force_new(),
                )
                .attr(
                    "separator",
                    Attribute::optional(Type::String)
                        .with_default("-")
                        .force_new(),
                )
                .attr("prefix", Attribute::optional(Type::String).force_new())
                .attr("keepers", keepers())
                .attr("id", Attribute::computed(Type::String)),
        );
        s
    }

    fn configure(&mut self, config: &Value) -> Result<(), Error> {
        self.seed = num(config, "seed").map(|n| n as u64);
        Ok(())
    }

    fn validate(&self, type_name: &str, config: &Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        match type_name {
            "random_id" => {
                if let Some(n) = num(config, "byte_length") {
                    if !(1..=1024).contains(&n) {
                        out.push(
                            Diagnostic::error(
                                "Invalid byte_length",
                                format!("byte_length must be between 1 and 1024, got {n}."),
                            )
                            .for_attribute("byte_length"),
                        );
                    }
                }
            }
            "random_password" => {
                if let Some(n) = num(config, "length") {
                    if !(1..=4096).contains(&n) {
                        out.push(
                            Diagnostic::error(
                                "Invalid length",
                                format!("length must be between 1 and 4096, got {n}."),
                            )
                            .for_attribute("length"),
                        );
                    }
                }
            }
            _ => {}
        }
        out
    }

    fn apply(&mut self, req: ApplyRequest<'_>) -> Result<Option<Value>, Error> {
        let Some(planned) = req.planned else {
            return Ok(None); // nothing exists outside state
        };
        if req.prior.is_some() {
            // Every argument forces replacement, so an update only changes nothing.
            return Ok(Some(planned.clone()));
        }
        let mut rng = self.rng(req.type_name, req.config)?;
        let state = match req.type_name {
            "random_id" => {
                let n = num(planned, "byte_length").unwrap_or(8).clamp(1, 1024) as usize;
                let prefix = text(planned, "prefix").unwrap_or_default().to_string();
                with(planned, id_values(&prefix, &rng.bytes(n)))
            }
            "random_password" => {
                let p = password(&mut rng, planned)?;
                with(
                    planned,
                    [("id", Value::from("none")), ("result", Value::from(p))],
                )
            }
            "random_pet" => with(planned, [("id", Value::from(pet(&mut rng, planned)))]),
            other => return Err(format!("unknown resource type {other}").into()),
        };
        Ok(Some(state))
    }

    fn import(&mut self, type_name: &str, id: &str) -> Result<Value, Error> {
        match type_name {
            "random_id" => {
                let bytes = unbase64_url(id)
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| Error::new(format!("{id:?} is not a base64url random_id")))?;
                let mut v = with(
                    &Value::map([("byte_length", Value::from(bytes.len() as i64))]),
                    id_values("", &bytes),
                );
                if let Value::Map(m) = &mut v {
                    m.insert("prefix".into(), Value::Null);
                    m.insert("keepers".into(), Value::Null);
                }
                Ok(v)
            }
            "random_pet" => Ok(Value::map([
                ("id", Value::from(id)),
                ("length", Value::from(id.split('-').count() as i64)),
                ("separator", Value::from("-")),
                ("prefix", Value::Null),
                ("keepers", Value::Null),
            ])),
            other => Err(format!("{other} does not support import").into()),
        }
    }
}

export_provider!(Random);
