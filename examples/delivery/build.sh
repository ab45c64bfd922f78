#!/bin/sh
# A small image builder: writes an OCI image layout (oci-layout, index.json, blobs/sha256) of
# one layer holding the directory given ($1) and a VERSION file, for `terrane deliver build`
# (which sets TERRANE_OCI_LAYOUT, TERRANE_IMAGE_TAGS and TERRANE_BUILD_NUMBER). A real
# pipeline uses docker buildx (--output type=oci), buildah or kaniko instead.
set -eu
src="${1:?usage: build.sh DIR}"
out="${TERRANE_OCI_LAYOUT:?run me through terrane deliver build}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/app" "$out/blobs/sha256"
cp -R "$src/." "$tmp/root/app/"
printf '%s %s\n' "${TERRANE_BUILD_NUMBER:-0}" "${TERRANE_GIT_SHA:-unknown}" >"$tmp/root/app/VERSION"
# Reproducible: sorted names, fixed owner and time, gzip without a name or time.
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp/root" -cf "$tmp/layer.tar" app
gzip -n -c "$tmp/layer.tar" >"$tmp/layer.tar.gz"
sha() { sha256sum "$1" | cut -d' ' -f1; }
put() { h=$(sha "$1"); cp "$1" "$out/blobs/sha256/$h"; echo "$h"; }
size() { wc -c <"$1" | tr -d ' '; }
diff_id=$(sha "$tmp/layer.tar")
layer=$(put "$tmp/layer.tar.gz")
printf '{"architecture":"amd64","os":"linux","config":{"Labels":{"org.opencontainers.image.version":"%s"}},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "${TERRANE_BUILD_NUMBER:-0}" "$diff_id" >"$tmp/config.json"
config=$(put "$tmp/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config" "$(size "$tmp/config.json")" "$layer" "$(size "$tmp/layer.tar.gz")" >"$tmp/manifest.json"
manifest=$(put "$tmp/manifest.json")
printf '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}]}' \
  "$manifest" "$(size "$tmp/manifest.json")" >"$out/index.json"
echo "built sha256:$manifest for tags: ${TERRANE_IMAGE_TAGS:-}"
