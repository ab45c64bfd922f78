//! Address arithmetic (cidrsubnet, cidrhost, cidrnetmask) and base64 for the built-in functions.

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
