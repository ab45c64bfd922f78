//! Address arithmetic (cidrsubnet, cidrsubnets, cidrhost, cidrnetmask) and base64 for the
//! built-in functions.

use terrane_core::Value;

pub(super) fn parse_cidr(c: &str) -> Result<(u128, u32, bool), String> {
    let (ip, bits) = c
        .split_once('/')
        .ok_or_else(|| format!("invalid CIDR address {c:?}"))?;
    let bits: u32 = bits
        .parse()
        .map_err(|_| format!("invalid prefix length in {c:?}"))?;
    let addr: std::net::IpAddr = ip
        .parse()
        .map_err(|_| format!("invalid IP address in {c:?}"))?;
    match addr {
        std::net::IpAddr::V4(v4) if bits <= 32 => Ok((u32::from(v4) as u128, bits, false)),
        std::net::IpAddr::V6(v6) if bits <= 128 => Ok((u128::from(v6), bits, true)),
        _ => Err(format!("invalid prefix length in {c:?}")),
    }
}

fn fmt_ip(addr: u128, v6: bool) -> String {
    if v6 {
        std::net::Ipv6Addr::from(addr).to_string()
    } else {
        std::net::Ipv4Addr::from(addr as u32).to_string()
    }
}

pub(super) fn cidrsubnet(prefix: &str, newbits: u32, netnum: u128) -> Result<String, String> {
    let (addr, bits, v6) = parse_cidr(prefix)?;
    let total = if v6 { 128 } else { 32 };
    let new_len = bits + newbits;
    if new_len > total {
        return Err(format!(
            "insufficient address space to extend prefix of {bits} by {newbits}"
        ));
    }
    if newbits < 128 && netnum >= (1u128 << newbits) {
        return Err(format!(
            "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
        ));
    }
    let host_bits = total - new_len;
    let net_mask: u128 = if bits == 0 {
        0
    } else {
        (!0u128) << (128 - bits) >> (128 - total)
    };
    let base = addr & net_mask;
    let sub = base | (netnum << host_bits);
    Ok(format!("{}/{}", fmt_ip(sub, v6), new_len))
}

pub(super) fn cidrhost(prefix: &str, hostnum: i128) -> Result<String, String> {
    let (addr, bits, v6) = parse_cidr(prefix)?;
    let total = if v6 { 128 } else { 32 };
    let host_bits = total - bits;
    let size: i128 = if host_bits >= 127 {
        i128::MAX
    } else {
        1i128 << host_bits
    };
    let h = if hostnum < 0 { size + hostnum } else { hostnum };
    if h < 0 || h >= size {
        return Err(format!(
            "prefix of {bits} does not accommodate a host numbered {hostnum}"
        ));
    }
    let net_mask: u128 = if bits == 0 {
        0
    } else {
        (!0u128) << (128 - bits) >> (128 - total)
    };
    Ok(fmt_ip((addr & net_mask) | h as u128, v6))
}

/// Consecutive subnets of the given sizes (new bits each) in `prefix`, aligned as Terraform's.
pub(super) fn cidrsubnets(prefix: &str, bits: &[f64]) -> Result<Value, String> {
    let (addr, len, v6) = parse_cidr(prefix)?;
    let total = if v6 { 128 } else { 32 };
    let base = addr & mask(len, total);
    let span = host_count(len, total);
    let mut next = base;
    let mut out = Vec::new();
    for (i, b) in bits.iter().enumerate() {
        let nb = *b;
        if nb < 1.0 || nb.fract() != 0.0 {
            return Err(format!(
                "invalid new bits value {nb} at argument {}: must be at least 1",
                i + 2
            ));
        }
        let new_len = len + nb as u32;
        if new_len > total {
            return Err(format!(
                "would extend prefix to {new_len} bits, which is too long for an IPv{} address",
                if v6 { 6 } else { 4 }
            ));
        }
        let size = host_count(new_len, total);
        // Align to the new prefix length.
        let start = next.checked_add(size - 1).map(|x| x & mask(new_len, total));
        let fits = start.is_some_and(|st| {
            st >= next && (st - base).checked_add(size).is_some_and(|e| e <= span)
        });
        let Some(start) = start.filter(|_| fits) else {
            return Err(format!("not enough remaining address space for a subnet with a prefix of {new_len} bits after {}", out.last().and_then(|v: &Value| v.as_str().map(String::from)).unwrap_or_else(|| prefix.to_string())));
        };
        let net = if v6 {
            std::net::IpAddr::V6(std::net::Ipv6Addr::from(start))
        } else {
            std::net::IpAddr::V4(std::net::Ipv4Addr::from(start as u32))
        };
        out.push(Value::String(format!("{net}/{new_len}")));
        next = start.saturating_add(size);
    }
    Ok(Value::List(out))
}

/// The network mask of a prefix length, as a number of the address's width.
fn mask(len: u32, total: u32) -> u128 {
    let all = if total == 128 {
        u128::MAX
    } else {
        (1u128 << total) - 1
    };
    if len == 0 {
        0
    } else {
        all & !((1u128 << (total - len)) - 1)
    }
}

/// How many addresses a prefix length spans (saturating for a /0 of IPv6).
fn host_count(len: u32, total: u32) -> u128 {
    let bits = total - len;
    if bits >= 128 {
        u128::MAX
    } else {
        1u128 << bits
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(super) fn base64_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(super) fn base64_decode(t: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut nbits = 0;
    for c in t.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()) {
        let v = B64.iter().position(|x| *x == c).ok_or("invalid base64")? as u32;
        buf = buf << 6 | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((buf >> nbits) as u8);
            buf &= (1 << nbits) - 1;
        }
    }
    Ok(out)
}
