//! Reads an image from an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/...`), as
//! buildah, kaniko (`--oci-layout-path`), `docker buildx --output type=oci,tar=false` and
//! Terrane's test builder write it. Every blob's digest is checked against its bytes.

use std::path::Path;

use sha2::{Digest, Sha256};
use terrane_core::delivery::Image;

use crate::DeliverError;

const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn bad(dir: &Path, what: impl std::fmt::Display) -> DeliverError {
    DeliverError::Image(format!("{}: {what}", dir.display()))
}

fn blob(dir: &Path, digest: &str) -> Result<Vec<u8>, DeliverError> {
    let hexpart = digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| bad(dir, format!("digest {digest:?} is not sha256:<64 hex>")))?;
    let path = dir.join("blobs").join("sha256").join(hexpart);
    let bytes = std::fs::read(&path).map_err(|e| bad(dir, format!("blob {digest}: {e}")))?;
    let actual = sha256(&bytes);
    if actual != digest {
        return Err(bad(
            dir,
            format!("blob {digest} has the digest {actual}: the layout is damaged"),
        ));
    }
    Ok(bytes)
}

fn json(dir: &Path, what: &str, bytes: &[u8]) -> Result<serde_json::Value, DeliverError> {
    serde_json::from_slice(bytes).map_err(|e| bad(dir, format!("{what} is not JSON: {e}")))
}

/// The one image of the layout in `dir` (its index's first manifest).
pub fn read_layout(dir: &Path) -> Result<Image, DeliverError> {
    let layout = std::fs::read(dir.join("oci-layout")).map_err(|e| {
        bad(
            dir,
            format!("no oci-layout file ({e}): the build wrote no OCI image layout here"),
        )
    })?;
    let layout = json(dir, "oci-layout", &layout)?;
    if layout["imageLayoutVersion"].as_str() != Some("1.0.0") {
        return Err(bad(dir, "imageLayoutVersion is not 1.0.0"));
    }
    let index =
        std::fs::read(dir.join("index.json")).map_err(|e| bad(dir, format!("index.json: {e}")))?;
    let index = json(dir, "index.json", &index)?;
    let entry = index["manifests"]
        .as_array()
        .and_then(|m| m.first())
        .ok_or_else(|| bad(dir, "index.json lists no manifest"))?;
    let digest = entry["digest"]
        .as_str()
        .ok_or_else(|| bad(dir, "index.json's manifest has no digest"))?;
    let manifest = blob(dir, digest)?;
    let parsed = json(dir, "the manifest", &manifest)?;
    let media_type = parsed["mediaType"]
        .as_str()
        .or_else(|| entry["mediaType"].as_str())
        .unwrap_or(MANIFEST_TYPES[0])
        .to_string();
    if !MANIFEST_TYPES.contains(&media_type.as_str()) {
        return Err(bad(
            dir,
            format!("the manifest is a {media_type}; one image manifest (one platform) is pushed"),
        ));
    }
    let mut digests = vec![parsed["config"]["digest"]
        .as_str()
        .ok_or_else(|| bad(dir, "the manifest has no config digest"))?
        .to_string()];
    for l in parsed["layers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        digests.push(
            l["digest"]
                .as_str()
                .ok_or_else(|| bad(dir, "a layer has no digest"))?
                .to_string(),
        );
    }
    let mut blobs = Vec::new();
    for d in digests {
        let bytes = blob(dir, &d)?;
        blobs.push((d, bytes));
    }
    Ok(Image {
        manifest,
        media_type,
        blobs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_blob(dir: &Path, bytes: &[u8]) -> String {
        let d = sha256(bytes);
        let p = dir.join("blobs/sha256");
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join(&d[7..]), bytes).unwrap();
        d
    }

    fn layout(dir: &Path) -> String {
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        let layer = write_blob(dir, b"layer bytes");
        let config = write_blob(dir, br#"{"architecture":"amd64","os":"linux"}"#);
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPES[0],
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 38},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": 11}],
        })
        .to_string();
        let m = write_blob(dir, manifest.as_bytes());
        std::fs::write(
            dir.join("index.json"),
            serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": MANIFEST_TYPES[0], "digest": m, "size": manifest.len()}]}).to_string(),
        )
        .unwrap();
        m
    }

    #[test]
    fn a_layout_gives_its_manifest_config_and_layers() {
        let dir = tempfile::tempdir().unwrap();
        let m = layout(dir.path());
        let image = read_layout(dir.path()).unwrap();
        assert_eq!(sha256(&image.manifest), m);
        assert_eq!(image.blobs.len(), 2);
        assert_eq!(image.blobs[1].1, b"layer bytes");
    }

    #[test]
    fn a_damaged_blob_or_a_missing_layout_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_layout(dir.path()).unwrap_err().to_string();
        assert!(e.contains("no oci-layout file"), "{e}");
        layout(dir.path());
        let layer = sha256(b"layer bytes");
        std::fs::write(dir.path().join("blobs/sha256").join(&layer[7..]), b"other").unwrap();
        let e = read_layout(dir.path()).unwrap_err().to_string();
        assert!(e.contains("the layout is damaged"), "{e}");
    }
}
