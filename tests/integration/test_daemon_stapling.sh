#!/usr/bin/env bash
# OCSP stapling with a real web server (issue 4): nginx with ssl_stapling on, pointed at iotcad's responder by
# the leaf's AIA, staples a response that `openssl s_client -status` shows as good, and revoked after a revoke.
# shellcheck source=tests/integration/daemon_lib.sh
source "$(dirname "$0")/daemon_lib.sh"
command -v nginx >/dev/null || die "nginx is not installed (deploy/install-deps.sh installs nginx-light)"

ceremony
write_config
# leaves carry AIA OCSP (and a CRL distribution point) under the daemon's own URL
jq --arg u "$BASE" '.base_url = $u' iotcad.json > cfg.tmp && mv cfg.tmp iotcad.json
"$IOTCAD" init --config iotcad.json >/dev/null
tokens
start_daemon
new_issuer int1
make_csr web stapled.updates.example.com "DNS:stapled.updates.example.com"
issue web firmware-endpoint "$PROV"; expect 201 "" "issue the web server's leaf"
serial=$(echo "$OUT" | jq -r .serial)
openssl x509 -in web.crt -noout -text | grep >/dev/null "OCSP - URI:$BASE/ocsp" || die "leaf lacks the AIA OCSP URL"
ok "the leaf names the daemon's OCSP responder in AIA"

NPORT=$(free_port)
cat web.crt web.chain > fullchain.pem
cat int1.pem roots.pem > trusted.pem
nginx_conf nginx.conf info 64 <<CONF
  server {
    listen 127.0.0.1:$NPORT ssl;
    server_name stapled.updates.example.com;
    ssl_certificate $WORK/fullchain.pem;
    ssl_certificate_key $WORK/web.key;
    ssl_stapling on;
    ssl_stapling_verify on;
    ssl_trusted_certificate $WORK/trusted.pem;
    location / { return 200 "ok\n"; }
  }
CONF
nginx -t -c "$WORK/nginx.conf" -p "$WORK/ng" >/dev/null 2>&1 || die "nginx config: $(nginx -t -c "$WORK/nginx.conf" -p "$WORK/ng" 2>&1)"
nginx -c "$WORK/nginx.conf" -p "$WORK/ng" -g 'daemon off;' &
NGINX_PID=$!
trap 'kill $NGINX_PID 2>/dev/null; cleanup' EXIT

# nginx fetches the response on the first handshakes; ask until it is stapled (bounded)
staple() {
  STAPLE=$(echo | openssl s_client -connect "127.0.0.1:$NPORT" -servername stapled.updates.example.com \
    -status -CAfile roots.pem 2>/dev/null) || true
}
for _ in $(seq 1 40); do
  staple
  echo "$STAPLE" | grep >/dev/null "Cert Status: good" && break
  sleep 0.25
done
echo "$STAPLE" | grep >/dev/null "OCSP Response Status: successful" || die "nothing stapled: $(tail -5 ng/error.log)"
echo "$STAPLE" | grep >/dev/null "Cert Status: good" || die "stapled status is not good"
echo "$STAPLE" | grep >/dev/null "Verify return code: 0 (ok)" || die "the TLS chain did not verify against the roots"
ok "nginx staples a good OCSP response that s_client -status shows"

http POST "/v1/certificates/$serial/revoke" -H "Authorization: Bearer $PROV" -d '{"reason":"superseded"}'
expect 200 "" "revoke the web server's leaf"
# nginx keeps a good staple until it refreshes; a restart makes it fetch again
kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true
nginx -c "$WORK/nginx.conf" -p "$WORK/ng" -g 'daemon off;' &
NGINX_PID=$!
# nginx never staples a non-good response; it logs the status it fetched (ngx_event_openssl_stapling.c)
for _ in $(seq 1 40); do
  staple
  grep -q 'certificate status "revoked" in the OCSP response' ng/error.log && break
  sleep 0.25
done
grep -q 'certificate status "revoked" in the OCSP response' ng/error.log || die "nginx did not see the revocation: $(tail -3 ng/error.log)"
echo "$STAPLE" | grep >/dev/null "Cert Status: good" && die "nginx still staples good after the revoke"
ok "after the revoke nginx fetches a revoked response from iotcad and stops stapling good"
echo "$CHECKS passed, 0 failed"
