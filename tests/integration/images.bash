# Container images made here, with no registry: a busybox-static rootfs,
# and an OCI image layout of one uncompressed layer as a tar, named for
# `ctr image import` with the io.containerd.image.name annotation.

# busybox_rootfs DIR: busybox-static, its applet links, root in passwd
busybox_rootfs() {
  local r=$1 a
  mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/proc" "$r/sys" "$r/dev" "$r/root"
  cp /bin/busybox "$r/bin/busybox"
  for a in $(/bin/busybox --list); do
    [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
  done
  echo "root:x:0:0:root:/root:/bin/sh" > "$r/etc/passwd"
  echo "root:x:0:" > "$r/etc/group"
}

# oci_archive OUT NAME ROOTFS CONFIG: the image NAME of ROOTFS as an OCI
# archive; CONFIG is the JSON of the image config's "config" (Env, Cmd,
# Entrypoint).
oci_archive() {
  local out=$1 name=$2 rootfs=$3 config=$4 d blobs ldig lsize cdig csize mdig msize
  d=$(mktemp -d "${TMPDIR:-/tmp}/oci.XXXXXX")
  blobs=$d/layout/blobs/sha256
  mkdir -p "$blobs"
  tar --numeric-owner -C "$rootfs" -cf "$d/layer.tar" .
  ldig=$(sha256sum < "$d/layer.tar" | cut -d' ' -f1)
  lsize=$(stat -c %s "$d/layer.tar")
  mv "$d/layer.tar" "$blobs/$ldig"
  # uncompressed: the diff id is the layer digest
  jq -cn --arg diff "sha256:$ldig" --argjson config "$config" '{
      architecture: "amd64", os: "linux", config: $config,
      rootfs: {type: "layers", diff_ids: [$diff]}}' > "$d/config"
  cdig=$(sha256sum < "$d/config" | cut -d' ' -f1)
  csize=$(stat -c %s "$d/config")
  mv "$d/config" "$blobs/$cdig"
  jq -cn --arg c "sha256:$cdig" --argjson cs "$csize" --arg l "sha256:$ldig" --argjson ls "$lsize" '{
      schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
      layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' > "$d/manifest"
  mdig=$(sha256sum < "$d/manifest" | cut -d' ' -f1)
  msize=$(stat -c %s "$d/manifest")
  mv "$d/manifest" "$blobs/$mdig"
  jq -cn --arg m "sha256:$mdig" --argjson ms "$msize" --arg name "$name" '{
      schemaVersion: 2,
      manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
        platform: {architecture: "amd64", os: "linux"},
        annotations: {"io.containerd.image.name": $name, "org.opencontainers.image.ref.name": "test"}}]}' \
    > "$d/layout/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$d/layout/oci-layout"
  tar -C "$d/layout" -cf "$out" oci-layout index.json blobs
  rm -rf "$d"
}

# The PATH images set
IMAGE_ENV='["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]'
