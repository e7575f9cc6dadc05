#!/bin/sh
# Creates a private CA and a server certificate for binaryrepo behind nginx.
#   sh nginx/setup-certs.sh [out-dir] [extra DNS names...]
# Default out-dir: nginx/certs (git-ignored). Names: docker-remote.example.com, localhost, 127.0.0.1, ::1.
set -eu
out=${1:-"$(dirname "$0")/certs"}
[ $# -gt 0 ] && shift
mkdir -p "$out"
cd "$out"
san="DNS:docker-remote.example.com,DNS:*.example.com,DNS:localhost,IP:127.0.0.1,IP:::1"
for n in "$@"; do san="$san,DNS:$n"; done
if [ ! -f ca.key ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
    -subj "/CN=binaryrepo local CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=docker-remote.example.com" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$san" > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 825 -extfile server.ext 2>/dev/null
rm -f server.csr server.ext
echo "certificates in $out: ca.crt (trust this), server.crt, server.key"
echo "Trust it:"
echo "  Debian/Ubuntu:  cp $out/ca.crt /usr/local/share/ca-certificates/binaryrepo.crt && update-ca-certificates"
echo "  docker:         mkdir -p /etc/docker/certs.d/docker-remote.example.com && cp $out/ca.crt /etc/docker/certs.d/docker-remote.example.com/ca.crt"
echo "  podman/skopeo:  mkdir -p /etc/containers/certs.d/docker-remote.example.com && cp $out/ca.crt /etc/containers/certs.d/docker-remote.example.com/ca.crt"
