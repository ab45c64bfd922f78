//! `rsadecrypt(ciphertext, privatekey)`: RSA PKCS #1 v1.5 decryption of base64 ciphertext with
//! a PEM private key (PKCS #1 `RSA PRIVATE KEY` or PKCS #8 `PRIVATE KEY`), as Terraform's. The
//! arithmetic is Montgomery modular exponentiation over 32-bit limbs: no crate for it, so the
//! engine stays light; the function is rare and not on any hot path.

use super::super::encoding::base64_decode;

pub fn rsadecrypt(ciphertext: &str, key: &str) -> Result<String, String> {
    let c = base64_decode(ciphertext).map_err(|_| {
        "failed to decode input \"ciphertext\": cipher text must be base64-encoded".to_string()
    })?;
    let (n, d) = private_key(key).map_err(|e| format!("invalid private key: {e}"))?;
    let k = n.len();
    let fail = || "failed to decrypt: crypto/rsa: decryption error".to_string();
    if c.len() != k || k < 11 {
        return Err(fail());
    }
    let n_limbs = limbs(&n);
    let c_limbs = limbs(&c);
    if !less(&c_limbs, &n_limbs) {
        return Err(fail());
    }
    let m = mod_pow(&c_limbs, &d, &n_limbs);
    let em = bytes(&m, k);
    // 0x00 0x02, at least eight nonzero padding bytes, 0x00, the message.
    if em[0] != 0 || em[1] != 2 {
        return Err(fail());
    }
    let sep = em[2..].iter().position(|b| *b == 0).ok_or_else(fail)? + 2;
    if sep < 10 {
        return Err(fail());
    }
    String::from_utf8(em[sep + 1..].to_vec())
        .map_err(|_| "the decrypted value is not valid UTF-8".to_string())
}

/// The modulus and private exponent (big-endian, without leading zeros) of a PEM key.
fn private_key(pem: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    let begin = pem
        .find("-----BEGIN ")
        .ok_or("ssh: no key found (expected a PEM block)")?;
    let rest = &pem[begin + 11..];
    let label_end = rest.find("-----").ok_or("ssh: no key found")?;
    let label = &rest[..label_end];
    let body = &rest[label_end + 5..];
    let end = body
        .find("-----END ")
        .ok_or("ssh: no key found (the PEM block has no END line)")?;
    let der = base64_decode(&body[..end]).map_err(|_| "invalid PEM data".to_string())?;
    match label {
        "RSA PRIVATE KEY" => pkcs1(&der),
        "PRIVATE KEY" => {
            // PrivateKeyInfo: version, algorithm, the PKCS #1 key in an octet string.
            let mut outer = Der(&der);
            let mut info = Der(outer.take(0x30)?);
            info.take(0x02)?;
            let alg = Der(info.take(0x30)?).take(0x06)?;
            // 1.2.840.113549.1.1.1, rsaEncryption
            if alg != [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01] {
                return Err("the PKCS #8 key is not an RSA key".into());
            }
            pkcs1(info.take(0x04)?)
        }
        other => Err(format!("ssh: unsupported key type {other:?}")),
    }
}

/// RSAPrivateKey: version, n, e, d, and the CRT values (not needed here).
fn pkcs1(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mut outer = Der(der);
    let mut key = Der(outer.take(0x30)?);
    key.take(0x02)?;
    let n = unsigned(key.take(0x02)?);
    key.take(0x02)?;
    let d = unsigned(key.take(0x02)?);
    if n.is_empty() || n[n.len() - 1] & 1 == 0 {
        return Err("the modulus is not odd".into());
    }
    Ok((n.to_vec(), d.to_vec()))
}

fn unsigned(b: &[u8]) -> &[u8] {
    let z = b.iter().take_while(|x| **x == 0).count();
    &b[z..]
}

/// A reader of DER's tag-length-value items.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    /// The contents of the next item, which must have `tag`.
    fn take(&mut self, tag: u8) -> Result<&'a [u8], String> {
        let b = self.0;
        let bad = || "asn1: structure error".to_string();
        if b.len() < 2 || b[0] != tag {
            return Err(bad());
        }
        let (len, at) = match b[1] {
            l if l < 0x80 => (l as usize, 2),
            l => {
                let n = (l & 0x7f) as usize;
                if n == 0 || n > 4 || b.len() < 2 + n {
                    return Err(bad());
                }
                let len = b[2..2 + n].iter().fold(0usize, |a, x| a << 8 | *x as usize);
                (len, 2 + n)
            }
        };
        let end = at
            .checked_add(len)
            .filter(|e| *e <= b.len())
            .ok_or_else(bad)?;
        self.0 = &b[end..];
        Ok(&b[at..end])
    }
}

/// Little-endian 32-bit limbs of a big-endian number.
fn limbs(be: &[u8]) -> Vec<u32> {
    be.rchunks(4)
        .map(|c| c.iter().fold(0u32, |a, x| a << 8 | *x as u32))
        .collect()
}

/// The `k` big-endian bytes of a number.
fn bytes(l: &[u32], k: usize) -> Vec<u8> {
    let mut out: Vec<u8> = l.iter().rev().flat_map(|x| x.to_be_bytes()).collect();
    let extra = out.len().saturating_sub(k);
    out.drain(..extra);
    while out.len() < k {
        out.insert(0, 0);
    }
    out
}

/// `a < b`, for numbers of any limb counts.
fn less(a: &[u32], b: &[u32]) -> bool {
    for i in (0..a.len().max(b.len())).rev() {
        let (x, y) = (
            a.get(i).copied().unwrap_or(0),
            b.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return x < y;
        }
    }
    false
}

/// `a -= b`, where `a >= b`.
fn sub(a: &mut [u32], b: &[u32]) {
    let mut borrow = 0i64;
    for (i, x) in a.iter_mut().enumerate() {
        let v = *x as i64 - b.get(i).copied().unwrap_or(0) as i64 - borrow;
        borrow = (v < 0) as i64;
        *x = v.rem_euclid(1 << 32) as u32;
    }
}

/// `a * b / R mod n` (Montgomery multiplication, R = 2^(32 * limbs of n)).
fn mont_mul(a: &[u32], b: &[u32], n: &[u32], n0: u32) -> Vec<u32> {
    let s = n.len();
    let mut t = vec![0u32; s + 2];
    for &bi in b.iter().take(s) {
        let mut carry = 0u64;
        for j in 0..s {
            let x = t[j] as u64 + a[j] as u64 * bi as u64 + carry;
            t[j] = x as u32;
            carry = x >> 32;
        }
        let x = t[s] as u64 + carry;
        t[s] = x as u32;
        t[s + 1] = (x >> 32) as u32;
        let m = t[0].wrapping_mul(n0);
        let mut carry = (t[0] as u64 + m as u64 * n[0] as u64) >> 32;
        for j in 1..s {
            let x = t[j] as u64 + m as u64 * n[j] as u64 + carry;
            t[j - 1] = x as u32;
            carry = x >> 32;
        }
        let x = t[s] as u64 + carry;
        t[s - 1] = x as u32;
        t[s] = t[s + 1] + (x >> 32) as u32;
        t[s + 1] = 0;
    }
    let mut r = t[..=s].to_vec();
    if !less(&r, n) {
        sub(&mut r, n);
    }
    r.truncate(s);
    r
}

/// `base ^ exp mod n`, for an odd `n` (`exp` big-endian).
fn mod_pow(base: &[u32], exp: &[u8], n: &[u32]) -> Vec<u32> {
    let s = n.len();
    // -n^-1 mod 2^32, by Newton's iteration.
    let mut inv = 1u32;
    for _ in 0..5 {
        inv = inv.wrapping_mul(2u32.wrapping_sub(n[0].wrapping_mul(inv)));
    }
    let n0 = inv.wrapping_neg();
    // R^2 mod n, by doubling.
    let mut r2 = vec![0u32; s + 1];
    r2[0] = 1;
    for _ in 0..64 * s {
        let mut carry = 0u32;
        for x in r2.iter_mut() {
            let v = *x >> 31;
            *x = *x << 1 | carry;
            carry = v;
        }
        if !less(&r2, n) {
            sub(&mut r2, n);
        }
    }
    r2.truncate(s);
    let mut b = base.to_vec();
    b.resize(s, 0);
    let bm = mont_mul(&b, &r2, n, n0);
    let mut one = vec![0u32; s];
    one[0] = 1;
    let mut x = mont_mul(&one, &r2, n, n0);
    for byte in exp {
        for bit in (0..8).rev() {
            x = mont_mul(&x, &x, n, n0);
            if byte >> bit & 1 == 1 {
                x = mont_mul(&x, &bm, n, n0);
            }
        }
    }
    mont_mul(&x, &one, n, n0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_powers_match_plain_arithmetic() {
        // 7^560 mod 561 (a Carmichael number: 1), 4^13 mod 497 = 445, 3^200 mod 1000003.
        let n = |x: u64| limbs(&x.to_be_bytes());
        let pow = |b: u64, e: u64, m: u64| -> u64 {
            let r = mod_pow(&n(b), unsigned(&e.to_be_bytes()), &n(m));
            r.iter().rev().fold(0u64, |a, x| a << 32 | *x as u64)
        };
        assert_eq!(pow(7, 560, 561), 1);
        assert_eq!(pow(4, 13, 497), 445);
        let mut want = 1u64;
        for _ in 0..200 {
            want = want * 3 % 1_000_003;
        }
        assert_eq!(pow(3, 200, 1_000_003), want);
        // A modulus of two limbs.
        let m = 0xffff_ffff_ffff_ffc5u64; // the largest 64-bit prime
        let mut want = 1u128;
        for _ in 0..1000 {
            want = want * 0x1234_5678_9abc_u128 % m as u128;
        }
        assert_eq!(pow(0x1234_5678_9abc, 1000, m), want as u64);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(rsadecrypt("!!", "x").unwrap_err().contains("base64"));
        assert!(rsadecrypt("aGk=", "not a key")
            .unwrap_err()
            .contains("invalid private key"));
        let junk = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert!(rsadecrypt("aGk=", junk).unwrap_err().contains("asn1"));
    }
}
