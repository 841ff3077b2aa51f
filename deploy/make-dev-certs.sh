#!/bin/sh
# make-dev-certs.sh: a development CA and the certificates of a Haven mutual-TLS
# exchange: havend's server certificate and a liaison system's client
# certificate, with the client's SHA-256 fingerprint (what a service account
# registers). For development only: keys are unencrypted, valid for 30 days.
#
#   deploy/make-dev-certs.sh [DIR] [CLIENT_NAME]
#
# DIR defaults to .dev/certs, CLIENT_NAME to police-system. Makes in DIR:
#   ca.crt ca.key                          the development CA
#   server.crt server.key                  havend's mTLS listener (localhost, 127.0.0.1)
#   CLIENT_NAME.crt CLIENT_NAME.key        the liaison system's client certificate
#   CLIENT_NAME.sha256                     hex SHA-256 of its DER encoding
# An existing CA is reused, so that more clients can be added later.
set -eu

dir="${1:-.dev/certs}"
client="${2:-police-system}"
days=30
curve="-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"

case "$client" in
  *[!a-zA-Z0-9._-]*|'') echo "make-dev-certs: CLIENT_NAME may hold only letters, digits, . _ -" >&2; exit 2 ;;
esac

mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 077

if [ ! -f ca.crt ]; then
  openssl req -x509 $curve -keyout ca.key -out ca.crt -days "$days" \
    -subj "/CN=Haven development CA" >/dev/null 2>&1
  echo "made the development CA: $dir/ca.crt"
fi

if [ ! -f server.crt ]; then
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' > server.ext
  openssl req $curve -keyout server.key -out server.csr -subj "/CN=localhost" >/dev/null 2>&1
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -out server.crt -days "$days" -extfile server.ext >/dev/null 2>&1
  rm -f server.csr server.ext
  echo "made havend's server certificate: $dir/server.crt"
fi

printf 'extendedKeyUsage=clientAuth\n' > "$client.ext"
openssl req $curve -keyout "$client.key" -out "$client.csr" -subj "/CN=$client" >/dev/null 2>&1
openssl x509 -req -in "$client.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
  -out "$client.crt" -days "$days" -extfile "$client.ext" >/dev/null 2>&1
rm -f "$client.csr" "$client.ext"
openssl x509 -in "$client.crt" -outform DER | sha256sum | cut -d' ' -f1 > "$client.sha256"
chmod 644 ca.crt server.crt "$client.crt" "$client.sha256"
echo "made the client certificate $dir/$client.crt"
echo "register it: havenctl sa create --org ORG_ID --name NAME --role law-enforcement-liaison --cert $dir/$client.crt"
